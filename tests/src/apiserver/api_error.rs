//! Errors the test server answers with, rendered as Kubernetes `Status` objects.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

/// One field-level cause of an `Invalid` (422) answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    /// Dotted path of the offending field, e.g. `spec.frameworks[0]`.
    pub field: String,
    /// Human-readable reason, e.g. `Unsupported value: "X"`.
    pub message: String,
}

/// A refused request: HTTP code, Kubernetes reason and message.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// Kubernetes `StatusReason`, e.g. `NotFound`, `Conflict`, `Invalid`.
    pub reason: &'static str,
    /// Message a client shows to its user.
    pub message: String,
    /// `details` of the Status (name, group, kind, causes).
    pub details: Option<Value>,
}

impl ApiError {
    /// A bare error with code, reason and message.
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    /// 400 BadRequest.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 404 NotFound for `<resource> "<name>" not found`.
    pub fn not_found(resource: &str, name: &str) -> Self {
        Self::new(404, "NotFound", format!("{resource} \"{name}\" not found"))
    }

    /// 409 AlreadyExists.
    pub fn already_exists(resource: &str, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{resource} \"{name}\" already exists"),
        )
    }

    /// 409 Conflict for a stale `resourceVersion` (the real server's wording).
    pub fn stale(resource: &str, name: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {resource} \"{name}\": the object has been \
                 modified; please apply your changes to the latest version and try again"
            ),
        )
    }

    /// 410 Gone for a resourceVersion older than the kept history.
    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    /// 415 UnsupportedMediaType.
    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {content_type:?})"
            ),
        )
    }

    /// 422 Invalid with field causes, worded like the real server.
    pub fn invalid(kind_group: &str, name: &str, causes: Vec<Cause>) -> Self {
        let joined = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect::<Vec<_>>()
            .join(", ");
        let message = if causes.len() == 1 {
            format!("{kind_group} \"{name}\" is invalid: {joined}")
        } else {
            format!("{kind_group} \"{name}\" is invalid: [{joined}]")
        };
        let details = json!({
            "name": name,
            "causes": causes.iter().map(|c| json!({
                "reason": "FieldValueInvalid", "message": c.message, "field": c.field
            })).collect::<Vec<_>>(),
        });
        Self {
            code: 422,
            reason: "Invalid",
            message,
            details: Some(details),
        }
    }

    /// The `Status` object for this error.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (code, axum::Json(self.to_status())).into_response()
    }
}

/// The reason the real server gives for a bare HTTP status code.
pub fn reason_for_code(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        410 => "Expired",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_write_is_worded_like_the_real_server() {
        let status = ApiError::stale("analysistasks.guardrails.io", "t1").to_status();
        assert_eq!(status["code"], 409);
        assert_eq!(status["reason"], "Conflict");
        assert!(
            status["message"]
                .as_str()
                .unwrap()
                .contains("the object has been modified")
        );
    }

    #[test]
    fn an_invalid_object_lists_every_cause() {
        let err = ApiError::invalid(
            "AnalysisTask.guardrails.io",
            "t1",
            vec![
                Cause {
                    field: "spec.a".into(),
                    message: "Required value".into(),
                },
                Cause {
                    field: "spec.b".into(),
                    message: "Invalid value".into(),
                },
            ],
        );
        assert_eq!(err.code, 422);
        assert_eq!(
            err.message,
            "AnalysisTask.guardrails.io \"t1\" is invalid: [spec.a: Required value, spec.b: Invalid value]"
        );
        assert_eq!(
            err.to_status()["details"]["causes"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }
}
