//! RFC 9457 problem details: every error response of the API, with a stable `type` and `code`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Prefix of every problem `type` URI; the code follows it.
pub const TYPE_PREFIX: &str = "https://guardrails.io/problems/";

/// Stable machine-readable error codes; each is also the last segment of the problem `type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// The request cannot be read as HTTP (e.g. an invalid path encoding).
    BadRequest,
    /// The body is not valid JSON (syntax, encoding, truncation).
    MalformedJson,
    /// No or wrong API key.
    Unauthorized,
    /// The request body did not arrive within the body-read timeout.
    RequestTimeout,
    /// The request body is larger than the body limit.
    BodyTooLarge,
    /// The text is longer than the text limit.
    TextTooLarge,
    /// The request target (path and query) is longer than the limit.
    UriTooLong,
    /// The body is not declared as JSON.
    UnsupportedMediaType,
    /// A field has the wrong type, is missing or holds a value not allowed.
    InvalidField,
    /// A framework name that is not HIPAA, GDPR, PCI_DSS or CCPA.
    UnknownFramework,
    /// A webhook URL that is not an http(s) URL, or that policy forbids.
    InvalidWebhookUrl,
    /// The request is understood but refused: a portal form without its CSRF token, or an
    /// action Kubernetes RBAC does not grant the api.
    Forbidden,
    /// No task has this id.
    TaskNotFound,
    /// The action does not apply to the object in its current state (e.g. redelivering a
    /// delivery that has not failed).
    Conflict,
    /// No route has this path.
    NotFound,
    /// The route exists but not with this method.
    MethodNotAllowed,
    /// Too many header fields, or too many header bytes.
    HeadersTooLarge,
    /// Kubernetes cannot be reached, the server is shutting down, or it is at capacity.
    Unavailable,
    /// Something broke on our side; the log has the details under the request id.
    Internal,
}

impl Code {
    /// The code as sent, e.g. `unknown_framework`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BadRequest => "bad_request",
            Code::MalformedJson => "malformed_json",
            Code::Unauthorized => "unauthorized",
            Code::RequestTimeout => "request_timeout",
            Code::BodyTooLarge => "body_too_large",
            Code::TextTooLarge => "text_too_large",
            Code::UriTooLong => "uri_too_long",
            Code::UnsupportedMediaType => "unsupported_media_type",
            Code::InvalidField => "invalid_field",
            Code::UnknownFramework => "unknown_framework",
            Code::InvalidWebhookUrl => "invalid_webhook_url",
            Code::Forbidden => "forbidden",
            Code::TaskNotFound => "task_not_found",
            Code::Conflict => "conflict",
            Code::NotFound => "not_found",
            Code::MethodNotAllowed => "method_not_allowed",
            Code::HeadersTooLarge => "headers_too_large",
            Code::Unavailable => "unavailable",
            Code::Internal => "internal",
        }
    }

    /// The HTTP status of this code.
    pub fn status(self) -> StatusCode {
        match self {
            Code::BadRequest | Code::MalformedJson => StatusCode::BAD_REQUEST,
            Code::Unauthorized => StatusCode::UNAUTHORIZED,
            Code::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Code::UriTooLong => StatusCode::URI_TOO_LONG,
            Code::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Code::BodyTooLarge | Code::TextTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::InvalidField | Code::UnknownFramework | Code::InvalidWebhookUrl => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Code::Forbidden => StatusCode::FORBIDDEN,
            Code::TaskNotFound | Code::NotFound => StatusCode::NOT_FOUND,
            Code::Conflict => StatusCode::CONFLICT,
            Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short human title, the same for every occurrence of the code.
    pub fn title(self) -> &'static str {
        match self {
            Code::BadRequest => "The request is not valid HTTP",
            Code::MalformedJson => "The request body is not valid JSON",
            Code::Unauthorized => "A valid API key is required",
            Code::RequestTimeout => "The request took too long to arrive",
            Code::BodyTooLarge => "The request body is too large",
            Code::TextTooLarge => "The text is too long",
            Code::UriTooLong => "The request target is too long",
            Code::UnsupportedMediaType => "The request body must be JSON",
            Code::InvalidField => "A field is invalid",
            Code::UnknownFramework => "Unknown compliance framework",
            Code::InvalidWebhookUrl => "The webhook URL is not allowed",
            Code::Forbidden => "The request is refused",
            Code::TaskNotFound => "No task has this id",
            Code::Conflict => "The action does not apply in this state",
            Code::NotFound => "No such endpoint",
            Code::MethodNotAllowed => "Method not allowed on this endpoint",
            Code::HeadersTooLarge => "The request headers are too large",
            Code::Unavailable => "The service is unavailable",
            Code::Internal => "Internal error",
        }
    }
}

impl Code {
    /// The code answered for a bare error `status` raised below the handlers, if there is one.
    fn for_status(status: StatusCode) -> Option<Code> {
        Some(match status {
            StatusCode::BAD_REQUEST => Code::BadRequest,
            StatusCode::UNAUTHORIZED => Code::Unauthorized,
            StatusCode::FORBIDDEN => Code::Forbidden,
            StatusCode::NOT_FOUND => Code::NotFound,
            StatusCode::CONFLICT => Code::Conflict,
            StatusCode::METHOD_NOT_ALLOWED => Code::MethodNotAllowed,
            StatusCode::REQUEST_TIMEOUT => Code::RequestTimeout,
            StatusCode::PAYLOAD_TOO_LARGE => Code::BodyTooLarge,
            StatusCode::URI_TOO_LONG => Code::UriTooLong,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Code::UnsupportedMediaType,
            StatusCode::UNPROCESSABLE_ENTITY => Code::InvalidField,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => Code::HeadersTooLarge,
            StatusCode::SERVICE_UNAVAILABLE => Code::Unavailable,
            StatusCode::INTERNAL_SERVER_ERROR => Code::Internal,
            _ => return None,
        })
    }
}

/// Middleware turning an error answered without a problem body (by an extractor or a layer)
/// into one with the same status; other headers are kept.
pub async fn ensure_problem_json(response: Response) -> Response {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == PROBLEM_JSON.as_bytes());
    // NB: /readyz answers 503 with its own JSON body, which is kept.
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/json");
    // NB: the portal's error pages are HTML, also kept.
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem || is_json || is_html {
        return response;
    }
    let Some(code) = Code::for_status(status) else {
        return response;
    };
    let (parts, _) = response.into_parts();
    let mut problem = ApiError::new(code, code.title()).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            problem.headers_mut().insert(name, value.clone());
        }
    }
    problem
}

/// Seconds a client is told to wait (`Retry-After`) before retrying after a `503`.
const RETRY_UNAVAILABLE_AFTER_SECONDS: &str = "1";

/// An error response: `application/problem+json` (RFC 9457).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// URI naming the kind of problem: `https://guardrails.io/problems/<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// What went wrong in this request; never contains the submitted text or a secret.
    pub detail: String,
    /// Stable machine-readable code, e.g. `unknown_framework`.
    pub code: String,
}

/// An error a handler answers with.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// The kind of error.
    pub code: Code,
    /// What went wrong, for the client.
    pub detail: String,
}

impl ApiError {
    /// An error of kind `code` explained by `detail`.
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
        }
    }

    /// The problem body of this error.
    pub fn problem(&self) -> Problem {
        Problem {
            problem_type: format!("{TYPE_PREFIX}{}", self.code.as_str()),
            title: self.code.title().into(),
            status: self.code.status().as_u16(),
            detail: self.detail.clone(),
            code: self.code.as_str().into(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.detail)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (self.code.status(), body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.code == Code::Unauthorized {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer realm="guardrails""#),
            );
        }
        if self.code == Code::Unavailable {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_UNAVAILABLE_AFTER_SECONDS),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_problem_type_ends_with_the_stable_code() {
        let problem = ApiError::new(Code::UnknownFramework, "`SOX` is not known").problem();
        assert_eq!(
            problem.problem_type,
            "https://guardrails.io/problems/unknown_framework"
        );
        assert_eq!(problem.status, 422);
        assert_eq!(problem.code, "unknown_framework");
    }

    #[tokio::test]
    async fn a_bare_error_becomes_a_problem_with_the_same_status() {
        let bare = (StatusCode::URI_TOO_LONG, [("x-request-id", "r1")], "").into_response();
        let response = ensure_problem_json(bare).await;
        assert_eq!(response.status(), StatusCode::URI_TOO_LONG);
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        assert_eq!(response.headers()["x-request-id"], "r1");
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let problem: Problem = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem.code, "uri_too_long");
    }

    #[test]
    fn unauthorized_answers_carry_a_bearer_challenge() {
        let response = ApiError::new(Code::Unauthorized, "missing").into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            r#"Bearer realm="guardrails""#
        );
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }
}
