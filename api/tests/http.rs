//! The REST API through the real router: every status code, the nasty inputs, and the standalone
//! job end to end (analysis, signed webhook to a loopback receiver, attempts in GET).

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use guardrails_agent::{SigningSecret, Verifier};
use serde_json::{Value, json};
use support::{App, KEY, Receiver, SECRET};

fn problem(status: StatusCode, headers: &axum::http::HeaderMap, body: &[u8]) -> Value {
    assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
    let problem: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(problem["status"], status.as_u16());
    assert_eq!(
        problem["type"],
        format!(
            "https://guardrails.io/problems/{}",
            problem["code"].as_str().unwrap()
        )
    );
    problem
}

async fn expect_problem(
    app: &App,
    path: &str,
    body: impl Into<Body>,
    status: StatusCode,
    code: &str,
) -> Value {
    let (got, headers, bytes) = app.post(path, body).await;
    assert_eq!(got, status, "{}", String::from_utf8_lossy(&bytes));
    let problem = problem(status, &headers, &bytes);
    assert_eq!(problem["code"], code);
    problem
}

#[tokio::test]
async fn the_sync_endpoint_returns_the_result_object() {
    let app = App::new();
    let body = json!({"text": "Card 4111 1111 1111 1111, mail jane@example.com", "frameworks": ["PCI_DSS"],
        "include_redaction": true});
    let (status, _, bytes) = app.post("/api/v1/analyze", body.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    let result: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(result["status"], "success");
    let types: Vec<&str> = result["pii"]["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"CREDIT_CARD") && types.contains(&"EMAIL_ADDRESS"),
        "{types:?}"
    );
    assert_eq!(result["compliance"]["compliant"], false);
    assert!(!result["redacted_text"].as_str().unwrap().contains("4111"));
    assert!(app.tasks.is_empty(), "the sync endpoint creates nothing");
}

#[tokio::test]
async fn an_async_submission_answers_202_and_resolves_to_success() {
    let app = App::new();
    let (status, headers, bytes) = app
        .post(
            "/api/v1/analyze/async",
            json!({"text": "SSN 536-22-1234"}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let submitted: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(submitted["status"], "PENDING");
    assert_eq!(submitted["message"], "Analysis task submitted successfully");
    let task_id = submitted["task_id"].as_str().unwrap();
    assert_eq!(
        headers[header::LOCATION],
        format!("/api/v1/tasks/{task_id}")
    );
    let view = app
        .wait_for_task(task_id, |v| v["status"] == "SUCCESS")
        .await;
    assert_eq!(view["task_id"], task_id);
    assert_eq!(view["result"]["pii"]["entities"][0]["type"], "US_SSN");
    assert!(view["started_at"].is_string() && view["completed_at"].is_string());
    assert!(view.get("webhook").is_none(), "no webhook was asked for");
}

#[tokio::test]
async fn a_full_queue_answers_503_creates_nothing_and_what_was_accepted_completes() {
    let app = App::builder().max_queued(1).build();
    // Both workers reserved: no submission can start, so they wait in the queue.
    let held = [
        app.workers.slot().await.unwrap(),
        app.workers.slot().await.unwrap(),
    ];
    let body = json!({"text": "SSN 536-22-1234"}).to_string();
    let mut accepted = Vec::new();
    let refused = loop {
        let (status, headers, bytes) = app.post("/api/v1/analyze/async", body.clone()).await;
        if status == StatusCode::ACCEPTED {
            let submitted: Value = serde_json::from_slice(&bytes).unwrap();
            accepted.push(submitted["task_id"].as_str().unwrap().to_owned());
            assert!(accepted.len() <= 2, "a queue of one took {accepted:?}");
            continue;
        }
        assert_eq!(headers[header::RETRY_AFTER], "1");
        break problem(status, &headers, &bytes);
    };
    assert_eq!(refused["status"], 503, "{refused}");
    assert_eq!(refused["code"], "unavailable", "{refused}");
    assert_eq!(
        app.tasks.len(),
        accepted.len(),
        "the refused submission left a task"
    );
    for task_id in &accepted {
        let (_, view) = app.get(&format!("/api/v1/tasks/{task_id}")).await;
        assert_eq!(view["status"], "PENDING", "{view}");
    }
    drop(held);
    for task_id in &accepted {
        let view = app
            .wait_for_task(task_id, |v| v["status"] == "SUCCESS")
            .await;
        assert_eq!(view["result"]["pii"]["entities"][0]["type"], "US_SSN");
    }
}

#[tokio::test]
async fn a_signed_webhook_reaches_the_receiver_and_its_attempts_show_in_get() {
    let app = App::new();
    let receiver = Receiver::start(vec![503]).await;
    let body = json!({"text": "Call 212-555-0187 or mail jane@example.com", "frameworks": ["GDPR"],
        "webhook_url": receiver.url(), "sign_payload": true});
    let (status, _, bytes) = app.post("/api/v1/analyze/async", body.to_string()).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let task_id = serde_json::from_slice::<Value>(&bytes).unwrap()["task_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let view = app
        .wait_for_task(&task_id, |v| v["webhook"]["status"] == "Succeeded")
        .await;
    let attempts = view["webhook"]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{view}");
    assert_eq!(attempts[0]["outcome"], "http_error");
    assert_eq!(attempts[0]["http_status"], 503);
    assert_eq!(attempts[1]["outcome"], "succeeded");

    let received = receiver.received();
    assert_eq!(received.len(), 2);
    let delivery = received.last().unwrap();
    let verifier = Verifier::new(vec![SigningSecret::new(SECRET).unwrap()]);
    verifier
        .verify(&delivery.headers, &delivery.body, jiff::Timestamp::now())
        .unwrap();
    let payload: Value = serde_json::from_slice(&delivery.body).unwrap();
    assert_eq!(payload["event_type"], "task.completed");
    assert_eq!(
        payload["task"]["id"],
        task_id.as_str(),
        "the webhook names the task of the 202"
    );
    assert_eq!(payload["result"], view["result"]);
    assert_eq!(
        received[0].headers["x-guardrails-delivery"], received[1].headers["x-guardrails-delivery"],
        "retries carry the same delivery id"
    );
}

#[tokio::test]
async fn a_receiver_refusing_the_event_fails_the_delivery_at_once() {
    let app = App::new();
    let receiver = Receiver::start(vec![400]).await;
    let body = json!({"text": "hello", "webhook_url": receiver.url()});
    let (_, _, bytes) = app.post("/api/v1/analyze/async", body.to_string()).await;
    let task_id = serde_json::from_slice::<Value>(&bytes).unwrap()["task_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let view = app
        .wait_for_task(&task_id, |v| v["webhook"]["status"] == "Failed")
        .await;
    assert_eq!(view["status"], "SUCCESS", "the analysis itself succeeded");
    assert_eq!(view["webhook"]["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(view["webhook"]["message"], "receiver answered HTTP 400");
    let delivery = &receiver.received()[0];
    assert!(
        !delivery.headers.contains_key("x-guardrails-signature"),
        "sign_payload was not set"
    );
}

#[tokio::test]
async fn unknown_task_ids_are_404() {
    let app = App::new();
    let (status, body) = app
        .get("/api/v1/tasks/2f1c6a0e-1d4b-4c57-9a57-0b1f3c0f4a11")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "task_not_found");
}

#[tokio::test]
async fn missing_and_wrong_api_keys_are_401_with_a_bearer_challenge() {
    let app = App::new();
    for auth in [
        None,
        Some("Bearer wrong-key"),
        Some("Basic dGVzdA=="),
        Some(KEY),
    ] {
        let mut request =
            Request::post("/api/v1/analyze/async").header("content-type", "application/json");
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let (status, headers, body) = app
            .send(
                request
                    .body(Body::from(json!({"text": "hi"}).to_string()))
                    .unwrap(),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(
            headers[header::WWW_AUTHENTICATE],
            r#"Bearer realm="guardrails""#
        );
        assert_eq!(problem(status, &headers, &body)["code"], "unauthorized");
    }
    let (status, _, _) = app
        .send(Request::get("/api/v1/tasks/x").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(app.tasks.is_empty());
}

#[tokio::test]
async fn malformed_bodies_are_400() {
    let app = App::new();
    for body in [
        &b"{\"text\": "[..],
        b"not json",
        b"",
        b"{\"text\": \"\xff\xfe\"}",
    ] {
        expect_problem(
            &app,
            "/api/v1/analyze/async",
            body.to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        )
        .await;
        expect_problem(
            &app,
            "/api/v1/analyze",
            body.to_vec(),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        )
        .await;
    }
    assert!(app.tasks.is_empty());
}

#[tokio::test]
async fn wrong_types_and_empty_text_are_422_and_never_echo_the_text() {
    let app = App::new();
    for body in [
        json!({"text": 42}),
        json!({"text": ["a"]}),
        json!({"text": ""}),
        json!({"frameworks": ["GDPR"]}),
        json!({"text": "SSN 536-22-1234", "frameworks": "GDPR"}),
        json!({"text": "SSN 536-22-1234", "include_redaction": "yes"}),
        json!({"text": "SSN 536-22-1234", "sign_payload": 1}),
        json!({"text": "SSN 536-22-1234", "webhook_url": 5}),
        json!("SSN 536-22-1234"),
    ] {
        let problem = expect_problem(
            &app,
            "/api/v1/analyze/async",
            body.to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        )
        .await;
        assert!(!problem.to_string().contains("536-22"), "{problem}");
    }
    assert!(app.tasks.is_empty());
}

#[tokio::test]
async fn unknown_frameworks_are_422() {
    let app = App::new();
    let problem = expect_problem(
        &app,
        "/api/v1/analyze/async",
        json!({"text": "hi", "frameworks": ["GDPR", "SOX"]}).to_string(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_framework",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("SOX"));
    expect_problem(
        &app,
        "/api/v1/analyze",
        json!({"text": "hi", "frameworks": [1]}).to_string(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    assert!(app.tasks.is_empty());
}

#[tokio::test]
async fn oversized_bodies_and_texts_are_413() {
    let app = App::new();
    let huge = json!({"text": "a".repeat(70 * 1024)}).to_string();
    expect_problem(
        &app,
        "/api/v1/analyze/async",
        huge,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
    )
    .await;
    let long = json!({"text": "a".repeat(40 * 1024)}).to_string();
    expect_problem(
        &app,
        "/api/v1/analyze/async",
        long.clone(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "text_too_large",
    )
    .await;
    expect_problem(
        &app,
        "/api/v1/analyze",
        long,
        StatusCode::PAYLOAD_TOO_LARGE,
        "text_too_large",
    )
    .await;
    assert!(app.tasks.is_empty());
}

#[tokio::test]
async fn bodies_not_declared_as_json_are_415() {
    let app = App::new();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut request =
            Request::post("/api/v1/analyze/async").header("authorization", format!("Bearer {KEY}"));
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let (status, headers, body) = app
            .send(
                request
                    .body(Body::from(json!({"text": "hi"}).to_string()))
                    .unwrap(),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        assert_eq!(
            problem(status, &headers, &body)["code"],
            "unsupported_media_type"
        );
    }
    assert!(app.tasks.is_empty());
}

#[tokio::test]
async fn dangerous_webhook_urls_are_422_and_create_nothing() {
    let app = App::builder()
        .allowlist("allowed.com")
        .public_destinations_only()
        .build();
    for url in [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "ftp://allowed.com/hook",
        "https://allowed.com@evil.com/",
        "https://evil.com/?allowed.com",
        "https://allowed.com.evil.com/",
        "not a url",
    ] {
        expect_problem(
            &app,
            "/api/v1/analyze/async",
            json!({"text": "hi", "webhook_url": url}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_webhook_url",
        )
        .await;
    }
    assert!(app.tasks.is_empty());
}

#[tokio::test]
async fn ip_literal_and_private_webhook_urls_are_422() {
    let app = App::builder().public_destinations_only().build();
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/",
        "http://192.168.0.10/",
        "http://[::1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://2130706433/",
        "http://localhost:8080/",
    ] {
        let problem = expect_problem(
            &app,
            "/api/v1/analyze/async",
            json!({"text": "hi", "webhook_url": url}).to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_webhook_url",
        )
        .await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("public address"),
            "{url}: {problem}"
        );
    }
    assert!(app.tasks.is_empty());
}

#[tokio::test]
async fn the_operations_endpoints_answer_without_a_key() {
    let app = App::new();
    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
        let (status, _, _) = app
            .send(Request::get(path).body(Body::empty()).unwrap())
            .await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    app.post("/api/v1/analyze", json!({"text": "hi"}).to_string())
        .await;
    let (_, _, metrics) = app
        .send(Request::get("/metrics").body(Body::empty()).unwrap())
        .await;
    let metrics = String::from_utf8(metrics.to_vec()).unwrap();
    assert!(
        metrics.contains(
            r#"guardrails_api_requests_total{route="/api/v1/analyze",method="POST",status="200"} 1"#
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn unknown_paths_and_methods_are_problems_too() {
    let app = App::new();
    let (status, headers, body) = app
        .send(Request::get("/nope").body(Body::empty()).unwrap())
        .await;
    assert_eq!(problem(status, &headers, &body)["code"], "not_found");
    let (status, headers, body) = app
        .send(
            Request::get("/api/v1/analyze")
                .header("authorization", format!("Bearer {KEY}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        problem(status, &headers, &body)["code"],
        "method_not_allowed"
    );
}

#[tokio::test]
async fn every_answer_carries_a_request_id() {
    let app = App::new();
    let (_, headers, _) = app
        .send(Request::get("/healthz").body(Body::empty()).unwrap())
        .await;
    assert!(!headers["x-request-id"].is_empty());
    let (_, headers, _) = app
        .send(
            Request::get("/healthz")
                .header("x-request-id", "abc-123")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(headers["x-request-id"], "abc-123");
}

#[tokio::test]
async fn text_over_the_memory_budget_answers_503_until_work_finishes() {
    let app = App::builder().memory_budget(40 * 1024).build();
    let held = [
        app.workers.slot().await.unwrap(),
        app.workers.slot().await.unwrap(),
    ];
    let body = json!({"text": "SSN 536-22-1234. ".repeat(1200)}).to_string();
    let mut accepted = Vec::new();
    for _ in 0..2 {
        let (status, _, bytes) = app.post("/api/v1/analyze/async", body.clone()).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        let submitted: Value = serde_json::from_slice(&bytes).unwrap();
        accepted.push(submitted["task_id"].as_str().unwrap().to_owned());
    }
    for path in ["/api/v1/analyze/async", "/api/v1/analyze"] {
        let (status, headers, bytes) = app.post(path, body.clone()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(headers[header::RETRY_AFTER], "1");
        assert_eq!(problem(status, &headers, &bytes)["code"], "unavailable");
    }
    assert_eq!(app.tasks.len(), 2, "the refused submission left a task");
    drop(held);
    for task_id in &accepted {
        app.wait_for_task(task_id, |v| v["status"] == "SUCCESS")
            .await;
    }
    let (status, _, _) = app.post("/api/v1/analyze", body).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the budget came back with the finished work"
    );
}
