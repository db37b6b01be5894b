//! `metav1.Condition` helpers shared by every writer of status conditions.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

/// Condition type set by the operator on AnalysisTask: the analysis has finished.
pub const ANALYZED: &str = "Analyzed";
/// Condition type set by the agent on AnalysisTask: the webhook was delivered.
pub const DELIVERED: &str = "Delivered";
/// Condition type set by the agent on WebhookEndpoint: its signing secrets are usable.
pub const READY: &str = "Ready";

/// Builds a condition whose transition time is `now`.
pub fn new_condition(
    type_: &str,
    status: bool,
    reason: &str,
    message: impl Into<String>,
    observed_generation: Option<i64>,
    now: Time,
) -> Condition {
    Condition {
        type_: type_.to_owned(),
        status: if status { "True" } else { "False" }.to_owned(),
        reason: reason.to_owned(),
        message: message.into(),
        observed_generation,
        last_transition_time: now,
    }
}

/// Adds or replaces the condition of the same type, keeping its transition time when the status
/// did not change (as the API conventions require).
pub fn set_condition(conditions: &mut Vec<Condition>, mut condition: Condition) {
    match conditions.iter_mut().find(|c| c.type_ == condition.type_) {
        Some(existing) => {
            if existing.status == condition.status {
                condition.last_transition_time = existing.last_transition_time.clone();
            }
            *existing = condition;
        }
        None => conditions.push(condition),
    }
}

/// The condition of the given type, if present.
pub fn find_condition<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Time {
        Time(jiff::Timestamp::from_second(seconds).unwrap())
    }

    #[test]
    fn an_unchanged_status_keeps_its_transition_time() {
        let mut conds = vec![new_condition(
            ANALYZED,
            false,
            "Running",
            "started",
            Some(1),
            at(10),
        )];
        set_condition(
            &mut conds,
            new_condition(ANALYZED, false, "Running", "still running", Some(1), at(20)),
        );
        assert_eq!(conds.len(), 1);
        assert_eq!(conds[0].last_transition_time, at(10));
        assert_eq!(conds[0].message, "still running");
    }

    #[test]
    fn a_changed_status_moves_the_transition_time() {
        let mut conds = vec![new_condition(
            ANALYZED,
            false,
            "Running",
            "",
            Some(1),
            at(10),
        )];
        set_condition(
            &mut conds,
            new_condition(ANALYZED, true, "Succeeded", "", Some(1), at(20)),
        );
        assert_eq!(conds[0].status, "True");
        assert_eq!(conds[0].last_transition_time, at(20));
    }

    #[test]
    fn other_condition_types_are_left_alone() {
        let mut conds = vec![new_condition(ANALYZED, true, "Succeeded", "", None, at(10))];
        set_condition(
            &mut conds,
            new_condition(DELIVERED, true, "Delivered", "", None, at(20)),
        );
        assert_eq!(conds.len(), 2);
        assert_eq!(
            find_condition(&conds, ANALYZED).map(|c| c.status.as_str()),
            Some("True")
        );
    }
}
