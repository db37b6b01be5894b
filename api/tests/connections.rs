//! The HTTP server on a real loopback socket against slow, greedy and malformed clients: raw TCP
//! for half-sent requests, problem bodies for heads over the limits, sane request ids.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use guardrails_api::connections::HttpLimits;
use serde_json::Value;
use support::App;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Short limits, so each test sees them act within a few seconds.
fn limits() -> HttpLimits {
    HttpLimits {
        header_read_timeout: Duration::from_secs(1),
        body_read_timeout: Duration::from_secs(2),
        max_connections: 8,
    }
}

/// Everything the server sends on `stream` until it closes it (10 s at most).
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("the server kept the connection open")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

/// Sends `request` (raw bytes) on a new connection and returns the whole answer.
async fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    read_until_closed(&mut stream).await
}

/// The status code and the JSON body of a raw HTTP/1.1 answer.
fn parse(answer: &str) -> (u16, Value) {
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn header<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
    answer.split("\r\n\r\n").next()?.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

#[tokio::test]
async fn a_half_sent_request_line_is_dropped_after_the_header_timeout() {
    let app = App::new();
    let addr = app.serve(limits()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"GET /healthz HT").await.unwrap();
    let answer = read_until_closed(&mut stream).await;
    assert_eq!(
        answer, "",
        "nothing is answered to a request never finished"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let app = App::new();
    let addr = app.serve(limits()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn a_body_that_stops_arriving_gets_408_as_a_problem() {
    let app = App::new();
    let addr = app.serve(limits()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/analyze HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"text\": ",
        support::KEY
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // One byte a second: each arrives within any per-read timeout, the body never ends in time.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(900)).await;
        if stream.write_all(b" ").await.is_err() {
            break;
        }
    }
    let answer = read_until_closed(&mut stream).await;
    let (status, problem) = parse(&answer);
    assert_eq!(status, 408, "{answer}");
    assert_eq!(problem["code"], "request_timeout", "{answer}");
    assert_eq!(
        header(&answer, "content-type"),
        Some("application/problem+json")
    );
}

#[tokio::test]
async fn connections_over_the_cap_wait_until_one_closes() {
    let app = App::new();
    let addr = app
        .serve(HttpLimits {
            max_connections: 2,
            header_read_timeout: Duration::from_secs(30),
            ..limits()
        })
        .await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buffer = [0u8; 512];
        let read = stream.read(&mut buffer).await.unwrap();
        assert!(buffer[..read].starts_with(b"HTTP/1.1 200"));
        held.push(stream);
    }
    let mut third = TcpStream::connect(addr).await.unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = [0u8; 512];
    let early = tokio::time::timeout(Duration::from_millis(500), third.read(&mut buffer)).await;
    assert!(
        early.is_err(),
        "a third connection was served while two were open"
    );
    held.pop();
    let answer = read_until_closed(&mut third).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn long_targets_and_large_headers_get_problem_bodies() {
    let app = App::new();
    let addr = app.serve(limits()).await;
    let long_path = format!("/{}", "a".repeat(10 * 1024));
    let many_headers: String = (0..150).map(|i| format!("x-h{i}: v\r\n")).collect();
    let huge_header = format!("x-big: {}\r\n", "b".repeat(20 * 1024));
    for (request, status, code) in [
        (
            format!("GET {long_path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"),
            414,
            "uri_too_long",
        ),
        (
            format!("GET /healthz HTTP/1.1\r\nhost: x\r\n{many_headers}connection: close\r\n\r\n"),
            431,
            "headers_too_large",
        ),
        (
            format!("GET /healthz HTTP/1.1\r\nhost: x\r\n{huge_header}connection: close\r\n\r\n"),
            431,
            "headers_too_large",
        ),
    ] {
        let answer = exchange(addr, request.as_bytes()).await;
        let (got, problem) = parse(&answer);
        assert_eq!(got, status, "{answer}");
        assert_eq!(problem["code"], code, "{answer}");
        assert_eq!(problem["status"], status);
        assert!(header(&answer, "x-request-id").is_some(), "{answer}");
    }
}

#[tokio::test]
async fn heads_beyond_the_parser_buffer_and_garbage_get_a_bare_status_and_a_close() {
    // Documented: hyper answers these itself, before any of our code runs.
    let app = App::new();
    let addr = app.serve(limits()).await;
    let huge_path = format!("/{}", "a".repeat(100 * 1024));
    let answer = exchange(addr, format!("GET {huge_path} HTTP/1.1\r\n\r\n").as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    let answer = exchange(addr, b"\x16\x03\x01\x02\x00garbage\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}

#[tokio::test]
async fn a_request_id_with_unsafe_characters_is_replaced() {
    let app = App::new();
    let addr = app.serve(limits()).await;
    for id in [
        "abc\" status=500 fake=\"1".to_owned(),
        "a".repeat(200),
        "id with spaces".to_owned(),
    ] {
        let request = format!(
            "GET /healthz HTTP/1.1\r\nhost: x\r\nx-request-id: {id}\r\nconnection: close\r\n\r\n"
        );
        let answer = exchange(addr, request.as_bytes()).await;
        let echoed = header(&answer, "x-request-id").unwrap();
        assert_ne!(echoed, id);
        assert!(uuid::Uuid::parse_str(echoed).is_ok(), "{echoed}");
    }
    let answer = exchange(
        addr,
        b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-request-id: req-42.a:b_c\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(header(&answer, "x-request-id"), Some("req-42.a:b_c"));
}
