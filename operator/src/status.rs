//! The operator's fields of a task's status, written by server-side apply on `/status` with the
//! operator's own field manager, so the agent's `delivery` and `Delivered` condition stay its own.

use guardrails_crds::{
    AnalysisTask, AnalysisTaskStatus, ResultSummary, TaskPhase,
    conditions::{self, ANALYZED},
    task::LocalSecretRef,
};
use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResourceExt, api::PatchParams};

use crate::{decision::SPEC_CHANGED, failure::TaskFailure};

/// Field manager of every status write of the operator.
pub const FIELD_MANAGER: &str = "guardrails-operator";

/// Condition types the operator owns (every other one belongs to someone else).
const OWN_CONDITIONS: [&str; 2] = [ANALYZED, SPEC_CHANGED];

/// Parameters of the operator's status applies.
pub fn apply_params() -> PatchParams {
    PatchParams::apply(FIELD_MANAGER).force()
}

/// The operator's status of a task that has just started.
pub fn running(task: &AnalysisTask, now: Timestamp) -> AnalysisTaskStatus {
    let mut status = base(task, TaskPhase::Running, Some(now));
    status.completed_at = None;
    conditions::set_condition(
        &mut status.conditions,
        conditions::new_condition(
            ANALYZED,
            false,
            "Running",
            "the analysis is running",
            task.metadata.generation,
            Time(now),
        ),
    );
    status
}

/// The operator's status of a task whose result is in `secret_name`.
pub fn succeeded(
    task: &AnalysisTask,
    started: Timestamp,
    summary: ResultSummary,
    secret_name: String,
    now: Timestamp,
) -> AnalysisTaskStatus {
    let mut status = base(task, TaskPhase::Succeeded, Some(started));
    status.completed_at = Some(Time(now));
    let message = format!(
        "{} entities found; full result in Secret `{secret_name}`",
        summary.pii.detected
    );
    status.result = Some(summary);
    status.result_secret_ref = Some(LocalSecretRef { name: secret_name });
    conditions::set_condition(
        &mut status.conditions,
        conditions::new_condition(
            ANALYZED,
            true,
            "Succeeded",
            message,
            task.metadata.generation,
            Time(now),
        ),
    );
    status
}

/// The operator's status of a task that failed.
pub fn failed(
    task: &AnalysisTask,
    started: Timestamp,
    failure: &TaskFailure,
    now: Timestamp,
) -> AnalysisTaskStatus {
    let mut status = base(task, TaskPhase::Failed, Some(started));
    status.completed_at = Some(Time(now));
    status.error = Some(failure.to_string());
    conditions::set_condition(
        &mut status.conditions,
        conditions::new_condition(
            ANALYZED,
            false,
            failure.reason(),
            failure.to_string(),
            task.metadata.generation,
            Time(now),
        ),
    );
    status
}

/// The operator's status of a finished task, unchanged but for a condition saying its spec
/// changed after the analysis (which is never run again).
pub fn spec_changed(task: &AnalysisTask, now: Timestamp) -> AnalysisTaskStatus {
    let mut status = own_fields(task);
    let generation = task.metadata.generation;
    let analysed = status
        .observed_generation
        .map_or_else(|| "an earlier one".to_owned(), |g| g.to_string());
    let message = format!(
        "the spec changed to generation {} after the analysis of generation {analysed}; the result is for the analysed spec, create a new AnalysisTask to analyse the new one",
        generation.unwrap_or_default()
    );
    conditions::set_condition(
        &mut status.conditions,
        conditions::new_condition(
            SPEC_CHANGED,
            true,
            "SpecChangedAfterAnalysis",
            message,
            generation,
            Time(now),
        ),
    );
    status
}

/// The body of a server-side apply of `status` to the task `name`: only the operator's fields
/// and conditions.
pub fn apply_body(name: &str, status: &AnalysisTaskStatus) -> serde_json::Value {
    let mut own = status.clone();
    own.delivery = None;
    own.conditions
        .retain(|c| OWN_CONDITIONS.contains(&c.type_.as_str()));
    let crd = AnalysisTask::api_resource();
    serde_json::json!({
        "apiVersion": crd.api_version,
        "kind": crd.kind,
        "metadata": {"name": name},
        "status": own,
    })
}

/// The operator's current fields of the task, to build on.
fn own_fields(task: &AnalysisTask) -> AnalysisTaskStatus {
    let mut status = task.status.clone().unwrap_or_default();
    status.delivery = None;
    status
        .conditions
        .retain(|c| OWN_CONDITIONS.contains(&c.type_.as_str()));
    status
}

/// A fresh operator status in `phase`, keeping the operator's other conditions.
fn base(task: &AnalysisTask, phase: TaskPhase, started: Option<Timestamp>) -> AnalysisTaskStatus {
    AnalysisTaskStatus {
        phase: Some(phase),
        observed_generation: task.metadata.generation,
        started_at: started.map(Time),
        conditions: own_fields(task).conditions,
        ..AnalysisTaskStatus::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::TaskBuilder;
    use guardrails_crds::DeliveryPhase;
    use serde_json::json;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap()
    }

    #[test]
    fn the_running_patch_holds_only_operator_fields() {
        let task = TaskBuilder::new("t").build();
        let body = apply_body("t", &running(&task, at(10)));
        assert_eq!(body["apiVersion"], "guardrails.io/v1alpha1");
        assert_eq!(body["kind"], "AnalysisTask");
        assert_eq!(body["status"]["phase"], "Running");
        assert_eq!(body["status"]["startedAt"], "1970-01-01T00:00:10Z");
        assert_eq!(body["status"]["conditions"][0]["type"], "Analyzed");
        assert_eq!(body["status"]["conditions"][0]["status"], "False");
        assert!(body["status"].get("delivery").is_none());
    }

    #[test]
    fn the_agents_delivery_and_condition_are_never_sent() {
        let task = TaskBuilder::new("t")
            .running(at(10))
            .delivery(DeliveryPhase::Pending)
            .delivered_condition()
            .build();
        let body = apply_body(
            "t",
            &succeeded(
                &task,
                at(10),
                ResultSummary::default(),
                "t-result".into(),
                at(20),
            ),
        );
        assert!(body["status"].get("delivery").is_none(), "{body}");
        let types: Vec<_> = body["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["type"].clone())
            .collect();
        assert_eq!(types, vec![json!("Analyzed")]);
    }

    #[test]
    fn success_points_at_the_secret_and_keeps_the_start_time() {
        let task = TaskBuilder::new("t").running(at(10)).build();
        let status = succeeded(
            &task,
            at(10),
            ResultSummary::default(),
            "t-result".into(),
            at(20),
        );
        assert_eq!(status.phase, Some(TaskPhase::Succeeded));
        assert_eq!(status.started_at, Some(Time(at(10))));
        assert_eq!(status.completed_at, Some(Time(at(20))));
        assert_eq!(status.result_secret_ref.unwrap().name, "t-result");
        let analyzed = conditions::find_condition(&status.conditions, ANALYZED).unwrap();
        assert_eq!(
            (analyzed.status.as_str(), analyzed.reason.as_str()),
            ("True", "Succeeded")
        );
        assert_eq!(analyzed.last_transition_time, Time(at(20)));
    }

    #[test]
    fn failure_carries_the_reason_and_the_message() {
        let task = TaskBuilder::new("t").running(at(10)).build();
        let failure = TaskFailure::TextSecretNotFound {
            name: "input".into(),
        };
        let status = failed(&task, at(10), &failure, at(40));
        assert_eq!(status.phase, Some(TaskPhase::Failed));
        assert!(status.error.as_deref().unwrap().contains("Secret `input`"));
        let analyzed = conditions::find_condition(&status.conditions, ANALYZED).unwrap();
        assert_eq!(analyzed.reason, "TextSecretNotFound");
        assert!(status.result.is_none() && status.result_secret_ref.is_none());
    }

    #[test]
    fn a_spec_change_keeps_the_result_and_adds_a_condition() {
        let task = TaskBuilder::new("t")
            .succeeded(at(10))
            .generation(2)
            .build();
        let status = spec_changed(&task, at(50));
        assert_eq!(status.phase, Some(TaskPhase::Succeeded));
        assert_eq!(status.observed_generation, Some(1));
        assert!(status.result_secret_ref.is_some());
        let cond = conditions::find_condition(&status.conditions, SPEC_CHANGED).unwrap();
        assert_eq!(cond.observed_generation, Some(2));
        assert!(
            cond.message.contains("generation 2") && cond.message.contains("generation 1"),
            "{}",
            cond.message
        );
    }
}
