//! The JSON body extractor: bad or slow bodies become problems (400, 408, 413, 415) whose text
//! never echoes the body.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde_json::Value;

use crate::problem::{ApiError, Code};
use crate::routes::AppState;

/// A request body that was declared as JSON and parses as JSON.
#[derive(Debug)]
pub struct JsonBody(pub Value);

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers().get(header::CONTENT_TYPE)) {
            return Err(ApiError::new(
                Code::UnsupportedMediaType,
                "send the body with `Content-Type: application/json`",
            ));
        }
        let deadline = state.body_read_timeout;
        let read = tokio::time::timeout(deadline, Bytes::from_request(req, state))
            .await
            .map_err(|_| {
                ApiError::new(
                    Code::RequestTimeout,
                    format!(
                        "the request body did not arrive within {} s",
                        deadline.as_secs()
                    ),
                )
            })?;
        let bytes = read.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    Code::BodyTooLarge,
                    "the request body exceeds the body limit",
                )
            } else {
                ApiError::new(Code::MalformedJson, "the request body could not be read")
            }
        })?;
        let value = serde_json::from_slice(&bytes).map_err(|err| {
            // NB: serde_json's syntax messages name a line and column, never the input itself.
            ApiError::new(
                Code::MalformedJson,
                format!("the body is not valid UTF-8 JSON: {err}"),
            )
        })?;
        Ok(JsonBody(value))
    }
}

/// Whether a `Content-Type` declares JSON: `application/json` or `application/<x>+json`.
fn is_json(content_type: Option<&header::HeaderValue>) -> bool {
    let Some(value) = content_type.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(value: &str) -> bool {
        is_json(Some(&header::HeaderValue::from_str(value).unwrap()))
    }

    #[test]
    fn json_media_types_are_recognised_with_parameters_and_suffixes() {
        assert!(json("application/json"));
        assert!(json("Application/JSON; charset=utf-8"));
        assert!(json("application/merge-patch+json"));
        assert!(!json("text/plain"));
        assert!(!json("application/x-www-form-urlencoded"));
        assert!(!is_json(None));
    }
}
