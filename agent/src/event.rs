//! Webhook events: `task.completed` and `task.failed`, their payload and their body bytes.

use crate::canonical::to_canonical_json;
use jiff::Timestamp;
use serde_json::{Value, json};
use std::fmt;

/// The name of the task in every payload, as the original service sent it.
const TASK_NAME: &str = "analyze_complete_async";

/// The kind of a webhook event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum EventType {
    /// The analysis finished and `result` holds its outcome.
    #[serde(rename = "task.completed")]
    Completed,
    /// The analysis failed and `error` says why.
    #[serde(rename = "task.failed")]
    Failed,
}

impl EventType {
    /// The wire name, e.g. `task.completed`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Completed => "task.completed",
            EventType::Failed => "task.failed",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One webhook event about one task; its id is the same on every retry.
#[derive(Clone)]
pub struct Event {
    id: String,
    event_type: EventType,
    task_id: String,
    timestamp: Timestamp,
    result: Option<Value>,
    error: Option<String>,
}

impl Event {
    /// A `task.completed` event for task `task_id` (the task's uid) carrying `result`.
    pub fn completed(task_id: impl Into<String>, result: Value) -> Self {
        Self::new(EventType::Completed, task_id.into(), Some(result), None)
    }

    /// A `task.failed` event for task `task_id` (the task's uid) carrying the error message.
    pub fn failed(task_id: impl Into<String>, error: impl Into<String>) -> Self {
        Self::new(EventType::Failed, task_id.into(), None, Some(error.into()))
    }

    fn new(
        event_type: EventType,
        task_id: String,
        result: Option<Value>,
        error: Option<String>,
    ) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            event_type,
            task_id,
            timestamp: Timestamp::now(),
            result,
            error,
        }
    }

    /// The same event with the id every delivery of task `task_id` carries (see [`task_event_id`]).
    pub fn with_task_event_id(self) -> Self {
        let id = task_event_id(&self.task_id);
        self.with_id(id)
    }

    /// The same event with a given id (e.g. the `eventId` already recorded in status).
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// The same event stamped with `timestamp` instead of the time it was built.
    pub fn at(mut self, timestamp: Timestamp) -> Self {
        self.timestamp = timestamp;
        self
    }

    /// The event id: `X-Guardrails-Delivery` and `webhook-id`, stable across retries.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The kind of event.
    pub fn event_type(&self) -> EventType {
        self.event_type
    }

    /// The task id (the AnalysisTask's uid).
    pub fn task_id(&self) -> &str {
        &self.task_id
    }

    /// When the event happened.
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }

    /// The payload (docs/webhooks.md) as a JSON value.
    pub fn payload(&self) -> Value {
        let status = match self.event_type {
            EventType::Completed => "SUCCESS",
            EventType::Failed => "FAILURE",
        };
        let mut payload = json!({
            "event_type": self.event_type.as_str(),
            "timestamp": format!("{:.6}", self.timestamp),
            "task": {"id": self.task_id, "name": TASK_NAME, "status": status},
        });
        if let Some(result) = &self.result {
            payload["result"] = result.clone();
        }
        if let Some(error) = &self.error {
            payload["error"] = Value::String(error.clone());
        }
        payload
    }

    /// The body bytes: the payload as canonical JSON.
    pub fn body(&self) -> Vec<u8> {
        to_canonical_json(&self.payload()).into_bytes()
    }
}

/// The event id of task `task_id`: a UUID derived from the task id alone, so every attempt,
/// round and restart sends the same id without having to record it first.
pub fn task_event_id(task_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(b"guardrails.io/webhook-event/")
        .chain_update(task_id.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

// NB: by hand, so that a logged event never shows the result (it holds PII) or the error text.
impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("id", &self.id)
            .field("event_type", &self.event_type)
            .field("task_id", &self.task_id)
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_noon() -> Timestamp {
        "2026-03-01T12:00:00.5Z".parse().unwrap()
    }

    #[test]
    fn completed_event_has_the_original_payload_shape() {
        let result = json!({"status": "success", "pii": {"detected": 0, "entities": []}});
        let event = Event::completed("uid-1", result).at(at_noon());
        assert_eq!(
            String::from_utf8(event.body()).unwrap(),
            r#"{"event_type":"task.completed","result":{"pii":{"detected":0,"entities":[]},"status":"success"},"task":{"id":"uid-1","name":"analyze_complete_async","status":"SUCCESS"},"timestamp":"2026-03-01T12:00:00.500000Z"}"#
        );
    }

    #[test]
    fn failed_event_carries_the_error_and_no_result() {
        let event = Event::failed("uid-2", "analysis timed out").at(at_noon());
        let payload = event.payload();
        assert_eq!(payload["task"]["status"], "FAILURE");
        assert_eq!(payload["error"], "analysis timed out");
        assert_eq!(payload["event_type"], "task.failed");
        assert!(payload.get("result").is_none());
    }

    #[test]
    fn debug_output_hides_the_result() {
        let event = Event::completed("uid-3", json!({"value": "jane@example.com"}));
        assert!(!format!("{event:?}").contains("jane@example.com"));
    }

    #[test]
    fn a_tasks_event_id_is_a_uuid_fixed_by_the_task_id() {
        let first = Event::failed("uid-9", "e").with_task_event_id();
        let again = Event::completed("uid-9", json!({})).with_task_event_id();
        assert_eq!(first.id(), again.id());
        assert_ne!(first.id(), task_event_id("uid-10"));
        assert!(uuid::Uuid::parse_str(first.id()).is_ok(), "{}", first.id());
    }

    #[test]
    fn event_id_is_kept_when_given() {
        assert_eq!(Event::failed("t", "e").with_id("evt-7").id(), "evt-7");
    }
}
