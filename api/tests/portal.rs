//! The portal through the real router, as a browser would use it without JavaScript: the login
//! cookie, CSRF refusals, a submitted task's timeline, a redelivery round, and no PII value on
//! any page. `tests/tests/portal_browser.rs` drives the same pages in headless Chromium.

mod support;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use support::{App, KEY, Receiver};

const PII: [&str; 2] = ["536-22-1234", "jane.roe@example.com"];

/// A visitor of the portal: its session cookie, if any.
struct Visitor<'a> {
    app: &'a App,
    cookie: Option<String>,
}

impl<'a> Visitor<'a> {
    fn new(app: &'a App) -> Self {
        Visitor { app, cookie: None }
    }

    async fn get(&self, path: &str) -> (StatusCode, HeaderMap, String) {
        let mut request = Request::get(path);
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let (status, headers, body) = self.app.send(request.body(Body::empty()).unwrap()).await;
        (status, headers, String::from_utf8(body.to_vec()).unwrap())
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, HeaderMap, String) {
        self.post_with(path, form, &[]).await
    }

    async fn post_with(
        &self,
        path: &str,
        form: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, String) {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut request =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for cookie in self.cookie.iter().map(String::as_str).chain(
            extra
                .iter()
                .filter(|(name, _)| *name == "cookie")
                .map(|(_, v)| *v),
        ) {
            request = request.header(header::COOKIE, cookie);
        }
        for (name, value) in extra.iter().filter(|(name, _)| *name != "cookie") {
            request = request.header(*name, *value);
        }
        let (status, headers, body) = self.app.send(request.body(Body::from(body)).unwrap()).await;
        (status, headers, String::from_utf8(body.to_vec()).unwrap())
    }

    /// Logs in with `key` through the login form; the response to the login.
    async fn log_in(&mut self, key: &str) -> (StatusCode, HeaderMap, String) {
        let (_, headers, page) = self.get("/ui/login").await;
        let nonce_cookie = set_cookie(&headers, "guardrails_login").unwrap();
        let nonce = hidden_token(&page);
        let answer = self
            .post_with(
                "/ui/login",
                &[("api_key", key), ("csrf", &nonce)],
                &[("cookie", &nonce_cookie)],
            )
            .await;
        if let Some(session) = set_cookie(&answer.1, "guardrails_session") {
            self.cookie = Some(session);
        }
        answer
    }

    /// The CSRF token of the forms of `path`.
    async fn token(&self, path: &str) -> String {
        hidden_token(&self.get(path).await.2)
    }
}

/// The `name=value` pair of the `Set-Cookie` header for cookie `name`.
fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    let line = set_cookie_line(headers, name);
    (!line.is_empty()).then(|| line.split(';').next().unwrap().to_owned())
}

/// The whole `Set-Cookie` line for cookie `name` (empty when none is set).
fn set_cookie_line(headers: &HeaderMap, name: &str) -> String {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_default()
        .to_owned()
}

/// The value of the first hidden `csrf` field of a page.
fn hidden_token(page: &str) -> String {
    let start = page
        .find(r#"name="csrf" value=""#)
        .expect("a form with a token")
        + 19;
    page[start..start + page[start..].find('"').unwrap()].to_owned()
}

fn location(headers: &HeaderMap) -> &str {
    headers[header::LOCATION].to_str().unwrap()
}

#[tokio::test]
async fn pages_need_a_login_whose_cookie_holds_no_key() {
    let app = App::new();
    let mut visitor = Visitor::new(&app);
    let (status, headers, _) = visitor.get("/ui/tasks").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location(&headers), "/ui/login");

    let (status, headers, page) = visitor.log_in("not-the-key").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(page.contains("This API key is not valid."));
    assert!(set_cookie(&headers, "guardrails_session").is_none());

    let (status, headers, _) = visitor.log_in(KEY).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let line = set_cookie_line(&headers, "guardrails_session");
    assert!(
        line.contains("HttpOnly") && line.contains("SameSite=Strict"),
        "{line}"
    );
    assert!(!line.contains("Secure"), "plain HTTP: {line}");
    assert!(!line.contains(KEY), "{line}");
    let (status, headers, page) = visitor.get("/ui/tasks").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<h1>Tasks</h1>"));
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));

    let token = visitor.token("/ui/tasks").await;
    let (status, headers, _) = visitor.post("/ui/logout", &[("csrf", &token)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(set_cookie_line(&headers, "guardrails_session").contains("Max-Age=0"));
}

#[tokio::test]
async fn the_session_cookie_is_secure_behind_https_and_the_login_needs_its_own_token() {
    let app = App::new();
    let visitor = Visitor::new(&app);
    let (_, headers, page) = visitor.get("/ui/login").await;
    let nonce_cookie = set_cookie(&headers, "guardrails_login").unwrap();
    let nonce = hidden_token(&page);
    let (status, headers, _) = visitor
        .post_with(
            "/ui/login",
            &[("api_key", KEY), ("csrf", "forged")],
            &[("cookie", &nonce_cookie)],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(set_cookie(&headers, "guardrails_session").is_none());
    let (status, headers, _) = visitor
        .post_with(
            "/ui/login",
            &[("api_key", KEY), ("csrf", &nonce)],
            &[("cookie", &nonce_cookie), ("x-forwarded-proto", "https")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(set_cookie_line(&headers, "guardrails_session").contains("Secure"));
}

#[tokio::test]
async fn forms_without_the_sessions_token_are_refused_and_change_nothing() {
    let app = App::new();
    let mut visitor = Visitor::new(&app);
    visitor.log_in(KEY).await;
    let mut other = Visitor::new(&app);
    other.log_in(KEY).await;
    let others_token = other.token("/ui/tasks").await;
    let receiver = Receiver::start(vec![]).await;
    let url = receiver.url();
    for token in [None, Some(""), Some("00ff"), Some(others_token.as_str())] {
        let mut form = vec![("text", "SSN 536-22-1234"), ("webhook_url", url.as_str())];
        form.extend(token.map(|t| ("csrf", t)));
        let (status, _, page) = visitor.post("/ui/tasks", &form).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{token:?}");
        assert!(page.contains("security token"), "{page}");
        let (status, _, _) = visitor.post("/ui/endpoints/test", &form).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    assert!(app.tasks.is_empty(), "no task was created");
    let (status, _, _) = Visitor::new(&app)
        .post("/ui/tasks", &[("text", "x"), ("csrf", &others_token)])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no session, no form");
}

#[tokio::test]
async fn a_failed_delivery_is_redelivered_in_a_new_round_and_no_page_shows_pii() {
    let app = App::new();
    let mut visitor = Visitor::new(&app);
    visitor.log_in(KEY).await;
    let receiver = Receiver::start(vec![500, 500, 500]).await;
    let token = visitor.token("/ui/tasks").await;
    let text = format!("Patient SSN {}, mail {}", PII[0], PII[1]);
    let (status, headers, _) = visitor
        .post(
            "/ui/tasks",
            &[
                ("text", &text),
                ("webhook_url", &receiver.url()),
                ("sign_payload", "true"),
                ("csrf", &token),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let task_page = location(&headers).split('?').next().unwrap().to_owned();
    let task_id = task_page.rsplit('/').next().unwrap().to_owned();
    app.wait_for_task(&task_id, |v| v["webhook"]["status"] == "Failed")
        .await;

    let (_, _, page) = visitor.get(&task_page).await;
    assert!(
        page.contains("US_SSN") && page.contains("EMAIL_ADDRESS"),
        "{page}"
    );
    assert_eq!(page.matches("<td>http_error</td>").count(), 3, "{page}");
    assert!(page.contains("receiver answered HTTP 500"));
    let (status, _, _) = visitor
        .post(&format!("{task_page}/redeliver"), &[("csrf", &token)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let view = app
        .wait_for_task(&task_id, |v| v["webhook"]["status"] == "Succeeded")
        .await;
    let last = view["webhook"]["attempts"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["round"].as_u64(), last["number"].as_u64()),
        (Some(2), Some(1))
    );
    let ids: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.headers["webhook-id"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 4);
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one event id in both rounds: {ids:?}"
    );

    let (status, _, page) = visitor
        .post(&format!("{task_page}/redeliver"), &[("csrf", &token)])
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a delivered task is not redelivered"
    );
    assert!(page.contains("only a Failed or Rejected delivery"));

    for path in [&task_page, "/ui/tasks", "/ui/endpoints", "/ui/deliveries"] {
        let (status, _, page) = visitor.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        for value in PII {
            assert!(!page.contains(value), "{path} shows a PII value");
        }
    }
    let (_, _, charts) = visitor.get("/ui/deliveries").await;
    assert!(charts.contains("4 in all, 1 succeeded"), "{charts}");
}

#[tokio::test]
async fn a_test_event_is_a_signed_task_delivered_like_any_other() {
    let app = App::new();
    let mut visitor = Visitor::new(&app);
    visitor.log_in(KEY).await;
    let receiver = Receiver::start(vec![]).await;
    let token = visitor.token("/ui/endpoints").await;
    let (status, headers, _) = visitor
        .post(
            "/ui/endpoints/test",
            &[("url", &receiver.url()), ("csrf", &token)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let task_id = location(&headers)
        .split('?')
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    app.wait_for_task(&task_id, |v| v["webhook"]["status"] == "Succeeded")
        .await;
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    assert!(received[0].headers.contains_key("webhook-signature"));

    let (status, _, page) = visitor
        .post(
            "/ui/endpoints/test",
            &[("url", "ftp://example.com/x"), ("csrf", &token)],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(
        page.contains("<h1>"),
        "an HTML error page, not problem+json"
    );
}

#[tokio::test]
async fn two_presses_of_redeliver_at_once_start_one_round() {
    let app = App::new();
    let mut visitor = Visitor::new(&app);
    visitor.log_in(KEY).await;
    let receiver = Receiver::start(vec![400]).await;
    let token = visitor.token("/ui/tasks").await;
    let (_, headers, _) = visitor
        .post(
            "/ui/tasks",
            &[
                ("text", "no PII"),
                ("webhook_url", &receiver.url()),
                ("csrf", &token),
            ],
        )
        .await;
    let task_page = location(&headers).split('?').next().unwrap().to_owned();
    let task_id = task_page.rsplit('/').next().unwrap().to_owned();
    app.wait_for_task(&task_id, |v| v["webhook"]["status"] == "Failed")
        .await;

    let path = format!("{task_page}/redeliver");
    let form = [("csrf", token.as_str())];
    let (first, second) = tokio::join!(visitor.post(&path, &form), visitor.post(&path, &form));
    let mut statuses = [first.0, second.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::CONFLICT]);
    let view = app
        .wait_for_task(&task_id, |v| v["webhook"]["status"] == "Succeeded")
        .await;
    assert_eq!(view["webhook"]["round"], 2, "{view}");
    assert_eq!(receiver.received().len(), 2, "one attempt per round");
}
