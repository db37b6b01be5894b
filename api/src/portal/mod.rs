//! The delivery portal: server-rendered pages under `/ui/` for the people who own webhook
//! receivers: recent tasks, each task's delivery timeline, the endpoints and their counters,
//! delivery charts, and the actions test event, redeliver and suspend / resume.
//!
//! - [`session`]: the login cookie and the CSRF token of every form;
//! - [`pages`]: the HTML of each page (never a PII value nor a secret's data);
//! - [`charts`]: the server-side SVG charts of the last hour's deliveries.
//!
//! Every action goes through what the REST API uses: a test event is a task submitted like any
//! other, a redelivery is the engine's new round; so each is recorded like any other attempt.

pub mod charts;
pub mod namespaces;
pub mod pages;
pub mod session;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use guardrails_crds::WebhookEndpoint;
use maud::Markup;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::auth::ApiKeys;
use crate::backend::{Backend, Listed};
use crate::model::{Submission, TaskView};
use crate::problem::{ApiError, Code};
use crate::routes::{self, AppState};
use session::{LoginToken, Session, Sessions};

/// Most tasks listed on the tasks page.
const LISTED_TASKS: usize = 200;

/// Most recent tasks the charts are drawn from.
const CHARTED_TASKS: usize = 10_000;

/// How long an action waits for the watch to bring its own write, so the next page shows it.
const WATCH_CATCH_UP: std::time::Duration = std::time::Duration::from_secs(2);

/// The text of a test event: a task with no personal data.
pub const TEST_EVENT_TEXT: &str = "Guardrails portal test event: this text holds no personal data.";

/// What the portal's handlers share.
#[derive(Clone)]
pub struct Portal {
    app: AppState,
    sessions: Sessions,
}

/// The portal's routes under `/ui`, behind a session (`keys` absent: `--auth none`).
pub fn router<S: Clone + Send + Sync + 'static>(
    app: AppState,
    keys: Option<Arc<ApiKeys>>,
) -> Router<S> {
    let portal = Portal {
        app,
        sessions: Sessions::new(keys),
    };
    let private = Router::new()
        .route("/ui", get(|| async { Redirect::to("/ui/tasks") }))
        .route("/ui/", get(|| async { Redirect::to("/ui/tasks") }))
        .route("/ui/tasks", get(tasks).post(submit_task))
        .route("/ui/tasks/{task_id}", get(task))
        .route("/ui/tasks/{task_id}/redeliver", post(redeliver))
        .route("/ui/endpoints", get(endpoints))
        .route("/ui/endpoints/test", post(test_event))
        .route("/ui/endpoints/{namespace}/{name}/suspend", post(suspend))
        .route("/ui/deliveries", get(deliveries))
        .route("/ui/logout", post(logout))
        .route_layer(from_fn_with_state(portal.clone(), require_session));
    Router::new()
        .merge(private)
        .route("/ui/login", get(login_page).post(login))
        .route("/ui/static/portal.css", get(stylesheet))
        .layer(from_fn(security_headers))
        .with_state(portal)
}

/// A page, or an error shown as a page.
type Page = Result<Response, PortalError>;

/// An error shown to the person as an HTML page with its status.
#[derive(Debug)]
pub struct PortalError(ApiError);

impl From<ApiError> for PortalError {
    fn from(err: ApiError) -> Self {
        PortalError(err)
    }
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let status = self.0.code.status();
        (status, pages::error(status, &self.0.detail)).into_response()
    }
}

fn now() -> u64 {
    jiff::Timestamp::now()
        .as_second()
        .try_into()
        .unwrap_or_default()
}

/// Lets a request through with its [`Session`]; without one, a page goes to the login (or gets a
/// session at once with `--auth none`) and a form is refused.
async fn require_session(
    State(portal): State<Portal>,
    mut request: Request,
    next: Next,
) -> Response {
    let now = now();
    if let Some(session) = portal.sessions.from_headers(request.headers(), now) {
        request.extensions_mut().insert(session);
        return next.run(request).await;
    }
    if request.method() != axum::http::Method::GET {
        return PortalError(ApiError::new(
            Code::Unauthorized,
            "your session has ended; log in again",
        ))
        .into_response();
    }
    if portal.sessions.needs_login() {
        return Redirect::to("/ui/login").into_response();
    }
    let Some(session) = portal.sessions.open(None, now) else {
        return Redirect::to("/ui/login").into_response();
    };
    let cookie = session.cookie(session::is_https(request.headers()));
    request.extensions_mut().insert(session);
    let mut response = next.run(request).await;
    set_cookie(&mut response, &cookie);
    response
}

/// Headers of every portal response: a strict content security policy, no caching, no framing.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// A posted form whose CSRF token matched the session's; anything else is refused with 403.
pub struct Posted<T>(pub T, pub Session);

#[derive(Deserialize)]
struct WithToken<T> {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    form: T,
}

impl<S, T> FromRequest<S> for Posted<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = PortalError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let session = request.extensions().get::<Session>().cloned();
        let Some(session) = session else {
            return Err(unauthorized());
        };
        let Form(WithToken { csrf, form }) = Form::<WithToken<T>>::from_request(request, state)
            .await
            .map_err(|rejection| {
                ApiError::new(
                    Code::InvalidField,
                    format!("the form cannot be read: {rejection}"),
                )
            })?;
        if !session.accepts_csrf(&csrf) {
            return Err(ApiError::new(
                Code::Forbidden,
                "the form's security token is missing or stale; reload the page and try again",
            )
            .into());
        }
        Ok(Posted(form, session))
    }
}

fn unauthorized() -> PortalError {
    ApiError::new(Code::Unauthorized, "your session has ended; log in again").into()
}

/// The login page (or, with `--auth none`, the tasks page: no login is needed).
async fn login_page(State(portal): State<Portal>, headers: HeaderMap) -> Response {
    if !portal.sessions.needs_login() {
        return Redirect::to("/ui/tasks").into_response();
    }
    let token = LoginToken::new();
    let mut response = pages::login(token.value(), None).into_response();
    set_cookie(&mut response, &token.cookie(session::is_https(&headers)));
    response
}

/// The login form's fields.
#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    api_key: String,
    #[serde(default)]
    csrf: String,
}

/// Checks the key and opens a session (the key is kept only as the session's HMAC key).
async fn login(
    State(portal): State<Portal>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let secure = session::is_https(&headers);
    let Some(token) = LoginToken::posted(&headers, &form.csrf) else {
        return PortalError(ApiError::new(
            Code::Forbidden,
            "the login form's security token is missing or stale; reload the page and try again",
        ))
        .into_response();
    };
    match portal.sessions.open(Some(&form.api_key), now()) {
        Some(session) => {
            tracing::info!("portal login");
            let mut response = Redirect::to("/ui/tasks").into_response();
            set_cookie(&mut response, &session.cookie(secure));
            response
        }
        None => {
            // NB: the key tried is never logged.
            tracing::warn!("portal login refused: the API key is not valid");
            let mut response = (
                StatusCode::UNAUTHORIZED,
                pages::login(token.value(), Some("This API key is not valid.")),
            )
                .into_response();
            set_cookie(&mut response, &token.cookie(secure));
            response
        }
    }
}

/// Ends the session.
async fn logout(headers: HeaderMap, Posted(_, _): Posted<Empty>) -> Response {
    let mut response = Redirect::to("/ui/login").into_response();
    set_cookie(
        &mut response,
        &session::logout_cookie(session::is_https(&headers)),
    );
    response
}

fn set_cookie(response: &mut Response, cookie: &cookie::Cookie<'_>) {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// A form with no field but its token.
#[derive(Deserialize)]
struct Empty {}

/// The filters of the tasks page.
#[derive(Debug, Default, Deserialize)]
pub struct TaskFilter {
    /// `PENDING`, `STARTED`, `SUCCESS` or `FAILURE`; empty for all.
    #[serde(default)]
    pub status: String,
    /// A delivery phase, `none` for tasks without a webhook; empty for all.
    #[serde(default)]
    pub delivery: String,
    /// A namespace (Kubernetes mode); empty for all.
    #[serde(default)]
    pub namespace: String,
    /// A notice to show, by its code.
    #[serde(default)]
    pub notice: String,
}

impl TaskFilter {
    /// Whether `listed` passes the filter.
    pub fn keeps(&self, listed: &Listed) -> bool {
        let task = &listed.view;
        let status = task.status.as_str();
        let delivery = task.webhook.as_ref().map_or("none", |w| w.status.as_str());
        (self.status.is_empty() || self.status == status)
            && (self.delivery.is_empty() || self.delivery == delivery)
            && (self.namespace.is_empty()
                || listed.namespace.as_deref() == Some(self.namespace.as_str()))
    }
}

/// Recent tasks, filtered, with the form to submit one.
async fn tasks(
    State(portal): State<Portal>,
    axum::Extension(session): axum::Extension<Session>,
    Query(filter): Query<TaskFilter>,
) -> Markup {
    let recent = portal.app.backend.recent(LISTED_TASKS);
    let mut namespaces: Vec<&str> = recent
        .iter()
        .filter_map(|t| t.namespace.as_deref())
        .collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    let tasks: Vec<&Listed> = recent.iter().filter(|t| filter.keeps(t)).collect();
    pages::tasks(&session, &filter, &namespaces, &tasks)
}

/// The fields of the submit form.
#[derive(Deserialize)]
struct SubmitForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    webhook_url: String,
    #[serde(default)]
    sign_payload: Option<String>,
    #[serde(default)]
    include_redaction: Option<String>,
}

/// Submits a task as the async endpoint does, then shows it.
async fn submit_task(State(portal): State<Portal>, Posted(form, _): Posted<SubmitForm>) -> Page {
    let webhook = form.webhook_url.trim();
    let body = json!({
        "text": form.text,
        "webhook_url": (!webhook.is_empty()).then_some(webhook),
        "sign_payload": form.sign_payload.is_some(),
        "include_redaction": form.include_redaction.is_some(),
    });
    let submission = Submission::from_json(&body, portal.app.max_text_bytes)?;
    let submitted = routes::submit(&portal.app, submission).await?;
    Ok(see_other(&format!(
        "/ui/tasks/{}?notice=submitted",
        submitted.task_id
    )))
}

/// The notice of a page after an action.
#[derive(Debug, Default, Deserialize)]
pub struct Notice {
    /// The notice's code.
    #[serde(default)]
    pub notice: String,
}

/// A task: its findings (types, positions, scores) and its delivery timeline.
async fn task(
    State(portal): State<Portal>,
    axum::Extension(session): axum::Extension<Session>,
    Path(task_id): Path<String>,
    Query(notice): Query<Notice>,
) -> Page {
    // NB: a task of another namespace is shown from its reflector, without the wait `get` makes
    // for a task of the api's own namespace that the watch has not brought yet.
    let other = match &portal.app.backend {
        Backend::Kubernetes(tasks) if tasks.cache().get(&task_id).is_none() => tasks
            .other_task(&task_id)
            .map(|task| crate::kubernetes::view_of(&task, &task_id)),
        _ => None,
    };
    let view = match other {
        Some(view) => Some(view),
        None => portal.app.backend.get(&task_id).await?,
    };
    let Some(view) = view else {
        return Err(ApiError::new(
            Code::TaskNotFound,
            "no task has this id (finished tasks are removed after their time to live)",
        )
        .into());
    };
    Ok(pages::task(&session, &view, &notice.notice).into_response())
}

/// Starts a new delivery round of a Failed or Rejected delivery.
async fn redeliver(
    State(portal): State<Portal>,
    Path(task_id): Path<String>,
    Posted(_, _): Posted<Empty>,
) -> Page {
    portal.app.backend.redeliver(&task_id).await?;
    Ok(see_other(&format!("/ui/tasks/{task_id}?notice=redelivery")))
}

/// The endpoints (Kubernetes) or the server-wide delivery policy (standalone).
async fn endpoints(
    State(portal): State<Portal>,
    axum::Extension(session): axum::Extension<Session>,
    Query(notice): Query<Notice>,
) -> Markup {
    let endpoints = portal.endpoints();
    pages::endpoints(&session, &portal.app, endpoints.as_deref(), &notice.notice)
}

impl Portal {
    /// The WebhookEndpoints the portal shows, by namespace and name (`None` in standalone).
    fn endpoints(&self) -> Option<Vec<Arc<WebhookEndpoint>>> {
        let store = self.app.rules.endpoints.as_ref()?;
        let mut all = store.state();
        if let Backend::Kubernetes(tasks) = &self.app.backend {
            all.extend(tasks.other_endpoints());
        }
        all.sort_by(|a, b| {
            (&a.metadata.namespace, &a.metadata.name)
                .cmp(&(&b.metadata.namespace, &b.metadata.name))
        });
        all.dedup_by(|a, b| a.metadata.uid == b.metadata.uid);
        Some(all)
    }

    /// Waits (up to [`WATCH_CATCH_UP`]) until the watch shows endpoint `namespace/name` with
    /// `suspend`, so the page after the action shows it too.
    async fn until_shown_suspended(&self, namespace: &str, name: &str, suspend: bool) {
        let shown = || {
            self.endpoints().into_iter().flatten().any(|e| {
                e.metadata.namespace.as_deref() == Some(namespace)
                    && e.metadata.name.as_deref() == Some(name)
                    && e.spec.suspend == suspend
            })
        };
        let deadline = tokio::time::Instant::now() + WATCH_CATCH_UP;
        while !shown() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// The fields of the test-event form.
#[derive(Deserialize)]
struct TestForm {
    #[serde(default)]
    url: String,
}

/// Sends a test event to a URL: a task with a text holding no personal data, delivered signed
/// under the URL's endpoint policy like any other.
async fn test_event(State(portal): State<Portal>, Posted(form, _): Posted<TestForm>) -> Page {
    let body =
        json!({"text": TEST_EVENT_TEXT, "webhook_url": form.url.trim(), "sign_payload": true});
    let submission = Submission::from_json(&body, portal.app.max_text_bytes)?;
    let submitted = routes::submit(&portal.app, submission).await?;
    Ok(see_other(&format!(
        "/ui/tasks/{}?notice=test-event",
        submitted.task_id
    )))
}

/// The field of the suspend form.
#[derive(Deserialize)]
struct SuspendForm {
    #[serde(default)]
    suspend: String,
}

/// Suspends or resumes a WebhookEndpoint (Kubernetes mode, where the api's RBAC allows it).
async fn suspend(
    State(portal): State<Portal>,
    Path((namespace, name)): Path<(String, String)>,
    Posted(form, _): Posted<SuspendForm>,
) -> Page {
    let Backend::Kubernetes(tasks) = &portal.app.backend else {
        return Err(ApiError::new(
            Code::Conflict,
            "standalone mode has no WebhookEndpoints to suspend",
        )
        .into());
    };
    let suspend = match form.suspend.as_str() {
        "true" => true,
        "false" => false,
        _ => {
            return Err(
                ApiError::new(Code::InvalidField, "`suspend` must be true or false").into(),
            );
        }
    };
    tasks.suspend_endpoint(&namespace, &name, suspend).await?;
    portal
        .until_shown_suspended(&namespace, &name, suspend)
        .await;
    let notice = if suspend { "suspended" } else { "resumed" };
    Ok(see_other(&format!("/ui/endpoints?notice={notice}")))
}

/// Delivery-rate and failure charts of the last hour.
async fn deliveries(
    State(portal): State<Portal>,
    axum::Extension(session): axum::Extension<Session>,
) -> Markup {
    let tasks: Vec<TaskView> = portal
        .app
        .backend
        .recent(CHARTED_TASKS)
        .into_iter()
        .map(|listed| listed.view)
        .collect();
    let hour = charts::LastHour::of(&tasks, jiff::Timestamp::now());
    pages::deliveries(&session, &hour)
}

/// The portal's stylesheet.
async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        pages::STYLESHEET,
    )
        .into_response()
}

fn see_other(location: &str) -> Response {
    Redirect::to(location).into_response()
}
