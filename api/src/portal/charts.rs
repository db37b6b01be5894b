//! The last hour of delivery attempts, counted from the tasks the api knows, and drawn as SVG.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use maud::{Markup, html};

use crate::model::TaskView;

/// Width of one bucket of the rate chart.
pub const BUCKET: SignedDuration = SignedDuration::from_mins(5);

/// Buckets in the hour.
pub const BUCKETS: usize = 12;

/// Attempts of the last hour: per five-minute bucket, and per outcome.
#[derive(Debug, Default, PartialEq)]
pub struct LastHour {
    /// Succeeded and not succeeded attempts per bucket, oldest first.
    pub buckets: [(u32, u32); BUCKETS],
    /// Attempts per outcome (`succeeded`, `http_error`, `timeout`, …).
    pub outcomes: BTreeMap<String, u32>,
}

impl LastHour {
    /// Counts the ended attempts of `tasks` that started in the hour before `now`.
    pub fn of(tasks: &[TaskView], now: Timestamp) -> Self {
        let start = now - BUCKET * i32::try_from(BUCKETS).unwrap_or(12);
        let mut hour = LastHour::default();
        let attempts = tasks
            .iter()
            .filter_map(|t| t.webhook.as_ref())
            .flat_map(|w| &w.attempts)
            .filter(|a| !matches!(a.outcome.as_str(), "in_progress" | "suspended"));
        for attempt in attempts {
            let Ok(at) = attempt.started_at.parse::<Timestamp>() else {
                continue;
            };
            if at < start || at > now {
                continue;
            }
            let index = (at.duration_since(start).as_secs() / BUCKET.as_secs()) as usize;
            let bucket = &mut hour.buckets[index.min(BUCKETS - 1)];
            if attempt.outcome == "succeeded" {
                bucket.0 += 1;
            } else {
                bucket.1 += 1;
            }
            *hour.outcomes.entry(attempt.outcome.clone()).or_default() += 1;
        }
        hour
    }

    /// Attempts counted in the hour.
    pub fn total(&self) -> u32 {
        self.buckets.iter().map(|(ok, failed)| ok + failed).sum()
    }
}

const WIDTH: u32 = 600;
const HEIGHT: u32 = 200;
const AXIS: u32 = 30;

/// Stacked bars of succeeded (green) and failed (red) attempts per five minutes.
pub fn rate_chart(hour: &LastHour) -> Markup {
    let highest = hour
        .buckets
        .iter()
        .map(|(a, b)| a + b)
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = (WIDTH - AXIS) / BUCKETS as u32;
    let scale = |n: u32| n * (HEIGHT - AXIS) / highest;
    let label = format!(
        "Attempts per five minutes over the last hour: {} in all, {} succeeded.",
        hour.total(),
        hour.buckets.iter().map(|(ok, _)| ok).sum::<u32>()
    );
    html! {
        svg role="img" aria-label=(label) viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) class="chart" {
            title { (label) }
            line x1=(AXIS) y1=(HEIGHT - AXIS) x2=(WIDTH) y2=(HEIGHT - AXIS) class="axis" {}
            text x="0" y="12" class="tick" { (highest) }
            text x=(AXIS) y=(HEIGHT - 8) class="tick" { "−60 min" }
            text x=(WIDTH - 40) y=(HEIGHT - 8) class="tick" { "now" }
            @for (i, (ok, failed)) in hour.buckets.iter().enumerate() {
                @let x = AXIS + i as u32 * slot + 4;
                @let ok_height = scale(*ok);
                @let failed_height = scale(*failed);
                rect x=(x) y=(HEIGHT - AXIS - ok_height) width=(slot - 8) height=(ok_height) class="ok" {}
                rect x=(x) y=(HEIGHT - AXIS - ok_height - failed_height) width=(slot - 8)
                    height=(failed_height) class="failed" {}
            }
        }
    }
}

/// Horizontal bars of the attempts per outcome.
pub fn outcome_chart(hour: &LastHour) -> Markup {
    let highest = hour.outcomes.values().copied().max().unwrap_or(0).max(1);
    let row = 28;
    let height = (hour.outcomes.len() as u32).max(1) * row;
    let summary: Vec<String> = hour
        .outcomes
        .iter()
        .map(|(o, n)| format!("{o} {n}"))
        .collect();
    let label = if summary.is_empty() {
        "Attempts by outcome over the last hour: none.".to_owned()
    } else {
        format!(
            "Attempts by outcome over the last hour: {}.",
            summary.join(", ")
        )
    };
    html! {
        svg role="img" aria-label=(label) viewBox=(format!("0 0 {WIDTH} {height}")) class="chart" {
            title { (label) }
            @for (i, (outcome, count)) in hour.outcomes.iter().enumerate() {
                @let y = i as u32 * row;
                @let width = count * (WIDTH - 200) / highest;
                text x="0" y=(y + 18) class="tick" { (outcome) }
                rect x="140" y=(y + 4) width=(width) height=(row - 8)
                    class=(if outcome == "succeeded" { "ok" } else { "failed" }) {}
                text x=(148 + width) y=(y + 18) class="tick" { (count) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AttemptView, TaskState, WebhookView};

    fn task(attempts: &[(&str, &str)]) -> TaskView {
        TaskView {
            task_id: "t".into(),
            status: TaskState::Success,
            submitted_at: String::new(),
            started_at: None,
            completed_at: None,
            result: None,
            error: None,
            webhook: Some(WebhookView {
                status: "Pending".into(),
                attempts: attempts
                    .iter()
                    .enumerate()
                    .map(|(i, (at, outcome))| AttemptView {
                        number: i as u32 + 1,
                        round: Some(1),
                        started_at: (*at).into(),
                        duration_ms: Some(3),
                        outcome: (*outcome).into(),
                        http_status: None,
                        error: None,
                        warning: None,
                    })
                    .collect(),
                message: None,
                round: Some(1),
                next_attempt_at: None,
            }),
        }
    }

    #[test]
    fn attempts_of_the_last_hour_are_counted_by_bucket_and_outcome() {
        let now: Timestamp = "2026-03-01T13:00:00Z".parse().unwrap();
        let tasks = [
            task(&[
                ("2026-03-01T12:01:00Z", "http_error"),
                ("2026-03-01T12:02:00Z", "succeeded"),
            ]),
            task(&[
                ("2026-03-01T11:59:00Z", "succeeded"),
                ("2026-03-01T12:59:59Z", "timeout"),
                ("2026-03-01T12:59:59Z", "in_progress"),
            ]),
        ];
        let hour = LastHour::of(&tasks, now);
        assert_eq!(
            hour.total(),
            3,
            "the attempt before the hour and the one in progress are left out"
        );
        assert_eq!(hour.buckets[0], (1, 1));
        assert_eq!(hour.buckets[11], (0, 1));
        assert_eq!(hour.outcomes["timeout"], 1);
        let svg = rate_chart(&hour).into_string();
        assert!(svg.contains("3 in all, 1 succeeded"), "{svg}");
    }
}
