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
    /// The body is not valid JSON (syntax, encoding, truncation).
    MalformedJson,
    /// No or wrong API key.
    Unauthorized,
    /// The request body is larger than the body limit.
    BodyTooLarge,
    /// The text is longer than the text limit.
    TextTooLarge,
    /// The body is not declared as JSON.
    UnsupportedMediaType,
    /// A field has the wrong type, is missing or holds a value not allowed.
    InvalidField,
    /// A framework name that is not HIPAA, GDPR, PCI_DSS or CCPA.
    UnknownFramework,
    /// A webhook URL that is not an http(s) URL, or that policy forbids.
    InvalidWebhookUrl,
    /// No task has this id.
    TaskNotFound,
    /// No route has this path.
    NotFound,
    /// The route exists but not with this method.
    MethodNotAllowed,
    /// Kubernetes cannot be reached, or the server is shutting down.
    Unavailable,
    /// Something broke on our side; the log has the details under the request id.
    Internal,
}

impl Code {
    /// The code as sent, e.g. `unknown_framework`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::MalformedJson => "malformed_json",
            Code::Unauthorized => "unauthorized",
            Code::BodyTooLarge => "body_too_large",
            Code::TextTooLarge => "text_too_large",
            Code::UnsupportedMediaType => "unsupported_media_type",
            Code::InvalidField => "invalid_field",
            Code::UnknownFramework => "unknown_framework",
            Code::InvalidWebhookUrl => "invalid_webhook_url",
            Code::TaskNotFound => "task_not_found",
            Code::NotFound => "not_found",
            Code::MethodNotAllowed => "method_not_allowed",
            Code::Unavailable => "unavailable",
            Code::Internal => "internal",
        }
    }

    /// The HTTP status of this code.
    pub fn status(self) -> StatusCode {
        match self {
            Code::MalformedJson => StatusCode::BAD_REQUEST,
            Code::Unauthorized => StatusCode::UNAUTHORIZED,
            Code::BodyTooLarge | Code::TextTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::InvalidField | Code::UnknownFramework | Code::InvalidWebhookUrl => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Code::TaskNotFound | Code::NotFound => StatusCode::NOT_FOUND,
            Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short human title, the same for every occurrence of the code.
    pub fn title(self) -> &'static str {
        match self {
            Code::MalformedJson => "The request body is not valid JSON",
            Code::Unauthorized => "A valid API key is required",
            Code::BodyTooLarge => "The request body is too large",
            Code::TextTooLarge => "The text is too long",
            Code::UnsupportedMediaType => "The request body must be JSON",
            Code::InvalidField => "A field is invalid",
            Code::UnknownFramework => "Unknown compliance framework",
            Code::InvalidWebhookUrl => "The webhook URL is not allowed",
            Code::TaskNotFound => "No task has this id",
            Code::NotFound => "No such endpoint",
            Code::MethodNotAllowed => "Method not allowed on this endpoint",
            Code::Unavailable => "The service is unavailable",
            Code::Internal => "Internal error",
        }
    }
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
