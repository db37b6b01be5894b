//! The browser kit against small pages served on 127.0.0.1: the accessibility check passes a
//! good page and names each problem of a bad one, a form can be filled and submitted, cookies
//! are reported with their attributes, and nothing but loopback is reachable. Where Chromium is
//! not installed, each test says so on stderr and checks nothing.

use std::collections::HashMap;

use axum::{
    Form, Router,
    http::header,
    response::{Html, IntoResponse},
    routing::get,
};
use guardrails_e2e::kit::Browser;

const GOOD: &str = r#"<!doctype html>
<html lang="en"><head><title>Good</title></head>
<body>
  <h1>Tasks</h1>
  <h2>Filter</h2>
  <form method="post" action="/echo">
    <label for="name">Name</label> <input id="name" name="name">
    <label>Notes <textarea name="notes"></textarea></label>
    <label for="colour">Colour</label>
    <select id="colour" name="colour"><option value="red">Red</option><option value="green">Green</option></select>
    <button type="submit">Send</button>
  </form>
  <h2>All tasks</h2>
  <table><tr><th>Name</th><th>State</th></tr><tr><td>first</td><td>Ready</td></tr></table>
  <p style="color: #767676">Grey, but dark enough.</p>
  <p style="color: #fff; background: #0b5cad">White on blue.</p>
  <img src="/logo.png" alt="Guardrails">
  <svg role="img" aria-label="Healthy" width="10" height="10"><circle cx="5" cy="5" r="5"/></svg>
  <a href="/good">Home</a>
</body></html>"#;

const BAD: &str = r#"<!doctype html>
<html><head><title>Bad</title></head>
<body>
  <h1>First title</h1>
  <h3>Skipped level</h3>
  <h1>Second title</h1>
  <input name="search">
  <p style="color: #bbb">Light grey text</p>
  <svg width="10" height="10"><circle cx="5" cy="5" r="5"/></svg>
  <img src="/logo.png">
</body></html>"#;

/// Serves the test pages on a free loopback port; returns its base URL.
async fn serve() -> String {
    let app = Router::new()
        .route("/good", get(|| async { Html(GOOD) }))
        .route("/bad", get(|| async { Html(BAD) }))
        .route("/echo", get(|| async { Html(GOOD) }).post(echo));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// Shows the posted fields and sets a session cookie.
async fn echo(Form(fields): Form<HashMap<String, String>>) -> impl IntoResponse {
    let mut lines: Vec<String> = fields
        .iter()
        .map(|(k, v)| {
            format!(
                "<li>{k}: {}</li>",
                v.replace('&', "&amp;").replace('<', "&lt;")
            )
        })
        .collect();
    lines.sort();
    (
        [(
            header::SET_COOKIE,
            "session=s3cret; Path=/; HttpOnly; SameSite=Strict",
        )],
        Html(format!(
            r#"<!doctype html><html lang="en"><body><h1>Received</h1><ul>{}</ul></body></html>"#,
            lines.concat()
        )),
    )
}

async fn browser() -> Option<Browser> {
    Browser::start().await.expect("the browser starts")
}

#[tokio::test]
async fn a_good_page_has_no_accessibility_problems() {
    let Some(browser) = browser().await else {
        return;
    };
    let base = serve().await;
    browser.goto(&format!("{base}/good")).await.unwrap();
    let problems = browser.accessibility_problems().await.unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
    browser.close().await.unwrap();
}

#[tokio::test]
async fn a_bad_page_has_each_of_its_problems_named() {
    let Some(browser) = browser().await else {
        return;
    };
    let base = serve().await;
    browser.goto(&format!("{base}/bad")).await.unwrap();
    let problems = browser.accessibility_problems().await.unwrap();
    let expected = [
        "<html> has no lang attribute",
        r#"form control <input name="search"> has no label"#,
        "2 <h1> elements on the page (expected exactly one)",
        r#"heading <h3> "Skipped level" follows <h1> (skips a level)"#,
        r#"image <img src="/logo.png"> has no alt attribute"#,
        r#"image <svg> needs role="img" and an accessible name"#,
        r#"low contrast 1.92:1 (needs 4.5:1) of <p> "Light grey text""#,
    ];
    for wanted in expected {
        assert!(
            problems.iter().any(|p| p.contains(wanted)),
            "missing {wanted:?} in {problems:#?}"
        );
    }
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
    browser.close().await.unwrap();
}

#[tokio::test]
async fn a_filled_form_is_posted_and_its_cookie_reported() {
    let Some(browser) = browser().await else {
        return;
    };
    let base = serve().await;
    browser.goto(&format!("{base}/good")).await.unwrap();
    browser.fill("Name", "Ada <Lovelace>").await.unwrap();
    browser.fill("Notes", "two\nlines").await.unwrap();
    browser.select("Colour", "Green").await.unwrap();
    let missing = browser.fill("Nickname", "x").await.unwrap_err();
    assert!(
        missing.to_string().contains(r#"labels are: "Name""#),
        "{missing}"
    );
    browser.press("Send").await.unwrap();

    assert_eq!(browser.current_path().await.unwrap(), "/echo");
    let text = browser.text().await.unwrap();
    assert!(text.contains("name: Ada <Lovelace>"), "{text}");
    assert!(text.contains("colour: green"), "{text}");
    assert!(
        browser
            .source()
            .await
            .unwrap()
            .contains("<h1>Received</h1>")
    );
    let cookies = browser.cookies().await.unwrap();
    let session = cookies
        .iter()
        .find(|c| c.name == "session")
        .unwrap_or_else(|| panic!("no session cookie in {cookies:?}"));
    assert_eq!(session.value, "s3cret");
    assert!(session.http_only);
    assert_eq!(session.same_site.as_deref(), Some("Strict"));
    assert!(!session.secure);

    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("echo.png");
    browser.screenshot(&png).await.unwrap();
    assert!(
        std::fs::read(&png)
            .unwrap()
            .starts_with(b"\x89PNG\r\n\x1a\n")
    );
    browser.close().await.unwrap();
}

#[tokio::test]
async fn only_loopback_is_reachable() {
    let Some(browser) = browser().await else {
        return;
    };
    let base = serve().await;
    browser
        .goto(&format!("{}/good", base.replace("127.0.0.1", "localhost")))
        .await
        .unwrap();
    // NB: `.invalid` never resolves; the error shows the request went to the dead loopback proxy.
    let err = browser
        .goto("http://guardrails.invalid/")
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("ERR_PROXY_CONNECTION_FAILED"),
        "{err}"
    );
    browser.close().await.unwrap();
}
