//! The handlers of every endpoint, with their OpenAPI description.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::backend::Backend;
use crate::budget::MemoryBudget;
use crate::json::JsonBody;
use crate::metrics::Metrics;
use crate::model::{Submission, SubmittedTask, TaskView};
use crate::problem::{ApiError, Code, Problem};
use crate::webhook_url::WebhookRules;
use crate::workers::{AnalysisFailure, Workers};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// Where tasks live.
    pub backend: Backend,
    /// The analysis worker pool (sync endpoint; standalone jobs share it).
    pub workers: Workers,
    /// Webhook destination rules checked at submission.
    pub rules: Arc<WebhookRules>,
    /// Longest text accepted, in bytes.
    pub max_text_bytes: usize,
    /// Text bytes held in memory for analysis, at most.
    pub budget: MemoryBudget,
    /// Time allowed to receive a request body.
    pub body_read_timeout: std::time::Duration,
    /// Metrics exposed at `/metrics`.
    pub metrics: Arc<Metrics>,
}

/// Analyses a text now and returns the result; nothing is stored.
#[utoipa::path(
    post, path = "/api/v1/analyze", tag = "analysis",
    request_body(content = crate::model::AnalyzeRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The analysis result", body = crate::openapi::AnalysisResult),
        (status = 400, description = "The body is not valid JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong API key", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive within the body-read timeout", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body or text too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The memory budget is used up", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn analyze(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Json<guardrails_analysis::Analysis>, ApiError> {
    let submission = Submission::from_json(&body, state.max_text_bytes)?;
    let _reservation = state.budget.try_reserve(submission.text.len())?;
    let options = submission.options();
    let result = state
        .workers
        .analyze(submission.text, options)
        .await
        .map_err(|failure| match failure {
            AnalysisFailure::Engine(detail) => ApiError::new(Code::InvalidField, detail),
            AnalysisFailure::Crashed => ApiError::new(Code::Internal, failure.to_string()),
        })?;
    Ok(Json(result))
}

/// Submits a text for analysis in the background; the outcome goes to the webhook, if any, and
/// to `GET /api/v1/tasks/{task_id}`.
#[utoipa::path(
    post, path = "/api/v1/analyze/async", tag = "analysis",
    request_body(content = crate::model::AnalyzeRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "The task was created", body = SubmittedTask,
            headers(("Location" = String, description = "Where the task's status is served"))),
        (status = 400, description = "The body is not valid JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong API key", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive within the body-read timeout", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body or text too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid, or the webhook URL is not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Kubernetes is unreachable, too many analyses are waiting, or the memory budget is used up", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn analyze_async(
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let submission = Submission::from_json(&body, state.max_text_bytes)?;
    let submitted = submit(&state, submission).await?;
    let location = format!("/api/v1/tasks/{}", submitted.task_id);
    let mut response = (StatusCode::ACCEPTED, Json(submitted)).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Checks a submission's webhook URL against the destination rules, creates its task and
/// counts it (the async endpoint and the portal's forms).
pub async fn submit(
    state: &AppState,
    mut submission: Submission,
) -> Result<SubmittedTask, ApiError> {
    if let Some(webhook) = &mut submission.webhook {
        webhook.url = state.rules.check(&webhook.url)?;
    }
    let submitted = state.backend.submit(submission).await.inspect_err(|err| {
        if err.code == Code::Unavailable {
            state.metrics.tasks_refused.inc();
        }
    })?;
    state.metrics.tasks_submitted.inc();
    Ok(submitted)
}

/// The status of a task, its result once it succeeded and its webhook delivery attempts.
#[utoipa::path(
    get, path = "/api/v1/tasks/{task_id}", tag = "analysis",
    params(("task_id" = String, Path, description = "Id returned by the async endpoint (the AnalysisTask's uid)")),
    responses(
        (status = 200, description = "The task", body = TaskView),
        (status = 401, description = "Missing or wrong API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No task has this id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Kubernetes is unreachable", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_task(
    State(state): State<AppState>,
    Path(task_id): Path<String>,
) -> Result<Json<TaskView>, ApiError> {
    match state.backend.get(&task_id).await? {
        Some(view) => Ok(Json(view)),
        None => Err(ApiError::new(
            Code::TaskNotFound,
            "no task has this id (finished tasks may have been removed)",
        )),
    }
}

/// Body of `/healthz` and `/readyz`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`, `ready` or `not ready`.
    pub status: String,
    /// Why the service is not ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Liveness: the process serves HTTP.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Alive", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        reason: None,
    })
}

/// Readiness: Kubernetes reachable and the task cache synced (always ready in standalone).
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Not ready", body = Health),
    ))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    match state.backend.not_ready() {
        None => (
            StatusCode::OK,
            Json(Health {
                status: "ready".into(),
                reason: None,
            }),
        ),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "not ready".into(),
                reason: Some(reason.into()),
            }),
        ),
    }
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Metrics in the Prometheus text format", body = String,
        content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

/// This API's OpenAPI document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::document())
}

/// Any path no route serves.
pub async fn not_found() -> ApiError {
    ApiError::new(Code::NotFound, "no endpoint has this path")
}

/// A known path with a method it does not serve.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        Code::MethodNotAllowed,
        "this endpoint does not serve this method",
    )
}
