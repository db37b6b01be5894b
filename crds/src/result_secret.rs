//! The layout of a task's result Secret, shared by its writer (the operator) and its readers
//! (the agent, the REST API).

/// Key of the result Secret whose value is the `result` JSON object (docs/webhooks.md).
pub const RESULT_KEY: &str = "result.json";

/// Name of the result Secret of the task `task_name`: `<task>-result`.
pub fn result_secret_name(task_name: &str) -> String {
    format!("{task_name}-result")
}
