//! `guardrails-agent send`: deliver one test event with the full policy and print every attempt.

use crate::attempt::{DeliveryAttempt, Outcome};
use crate::config::Config;
use crate::deliverer::{AttemptSink, Deliverer, Delivery, SinkError};
use crate::event::Event;
use crate::policy::SigningSecret;
use crate::{Error, Result};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The event kinds `send` can deliver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EventKind {
    /// `task.completed`, with a result.
    Completed,
    /// `task.failed`, with an error message.
    Failed,
}

/// Arguments of `guardrails-agent send`.
#[derive(clap::Args, Debug)]
pub struct SendArgs {
    /// Destination URL (http or https).
    #[arg(long)]
    pub url: String,
    /// Which event to send.
    #[arg(long, value_enum, default_value = "completed")]
    pub event: EventKind,
    /// JSON file holding the `result` object of a completed event [default: an empty result].
    #[arg(long, value_name = "FILE")]
    pub payload: Option<PathBuf>,
    /// Error message of a failed event.
    #[arg(
        long,
        default_value = "analysis failed (test event from guardrails-agent send)"
    )]
    pub error: String,
    /// Task id in the payload [default: a random UUID].
    #[arg(long)]
    pub task_id: Option<String>,
    /// Name of the environment variable holding the signing secret [default: WEBHOOK_SIGNING_SECRET].
    #[arg(long, value_name = "NAME")]
    pub secret_env: Option<String>,
    /// Let the delivery reach private and loopback addresses.
    #[arg(long)]
    pub allow_private: bool,
    /// Seconds one attempt may take.
    #[arg(long, default_value_t = 5.0)]
    pub timeout_seconds: f64,
    /// Attempts before giving up.
    #[arg(long, default_value_t = 3)]
    pub max_attempts: u32,
    /// Print JSON lines instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub config: Config,
}

/// Runs `send`: 0 when the receiver acknowledged, 2 on bad configuration, 1 otherwise.
pub async fn run(args: SendArgs) -> ExitCode {
    let (deliverer, delivery) = match prepare(&args) {
        Ok(prepared) => prepared,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let sink = PrintingSink { json: args.json };
    match deliverer.deliver(&delivery, Vec::new(), &sink).await {
        Ok(report) => {
            print_summary(&delivery, report.outcome, &report.attempts, args.json);
            if report.outcome == Outcome::Succeeded {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(1)
        }
    }
}

fn prepare(args: &SendArgs) -> Result<(Deliverer, Delivery)> {
    let mut policy = args.config.default_policy()?;
    if let Some(name) = &args.secret_env {
        let value = std::env::var(name).map_err(|_| {
            Error::InvalidConfig(format!("environment variable `{name}` is not set"))
        })?;
        policy.secrets = vec![SigningSecret::new(value)?];
    }
    policy.sign = !policy.secrets.is_empty();
    policy.max_attempts = args.max_attempts.max(1);
    policy.timeout = Duration::try_from_secs_f64(args.timeout_seconds)
        .ok()
        .filter(|t| !t.is_zero())
        .ok_or_else(|| {
            Error::InvalidConfig("--timeout-seconds must be a positive number".into())
        })?;
    let task_id = args
        .task_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let event = match (args.event, &args.payload) {
        (EventKind::Completed, Some(path)) => Event::completed(task_id, read_result(path)?),
        (EventKind::Completed, None) => Event::completed(task_id, empty_result()),
        (EventKind::Failed, None) => Event::failed(task_id, &args.error),
        (EventKind::Failed, Some(_)) => {
            return Err(Error::InvalidConfig(
                "--payload applies to --event completed only".into(),
            ));
        }
    };
    let delivery = Delivery::new(event, &args.url, policy)?;
    let mut guard = args.config.network_guard()?;
    guard.allow_private |= args.allow_private;
    let mut deliverer = Deliverer::new(guard)?;
    if let Some(limiter) = args.config.rate_limiter()? {
        deliverer = deliverer.with_rate_limiter(limiter);
    }
    Ok((deliverer, delivery))
}

fn read_result(path: &PathBuf) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::InvalidPayload(format!("cannot read `{}`: {e}", path.display())))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| Error::InvalidPayload(format!("`{}` is not JSON: {e}", path.display())))?;
    if !value.is_object() {
        return Err(Error::InvalidPayload(format!(
            "`{}` must hold a JSON object (the `result`)",
            path.display()
        )));
    }
    Ok(value)
}

/// A result with no findings, sent when no `--payload` is given.
fn empty_result() -> Value {
    json!({
        "status": "success",
        "pii": {"detected": 0, "entities": []},
        "compliance": {"compliant": true, "violations": 0, "frameworks": []},
        "risk": {"overall_score": 0.0, "overall_level": "low", "recommendations": []},
    })
}

/// Prints one line per finished attempt on stdout.
struct PrintingSink {
    json: bool,
}

impl AttemptSink for PrintingSink {
    async fn started(&self, _: &Delivery, _: &DeliveryAttempt) -> Result<(), SinkError> {
        Ok(())
    }

    async fn finished(&self, _: &Delivery, attempt: &DeliveryAttempt) -> Result<(), SinkError> {
        if self.json {
            println!("{}", json!({"type": "attempt", "attempt": attempt}));
        } else {
            let status = attempt
                .http_status
                .map(|s| format!(" HTTP {s}"))
                .unwrap_or_default();
            let detail = attempt
                .error
                .iter()
                .chain(attempt.warning.iter())
                .map(|d| format!(" — {d}"))
                .collect::<String>();
            println!(
                "attempt {} at {}: {}{status} in {} ms{detail}",
                attempt.number,
                attempt.started_at,
                attempt.outcome,
                attempt.duration_ms.unwrap_or_default()
            );
        }
        Ok(())
    }
}

fn print_summary(delivery: &Delivery, outcome: Outcome, attempts: &[DeliveryAttempt], json: bool) {
    let event = delivery.event();
    if json {
        let summary = json!({"type": "summary", "outcome": outcome, "eventId": event.id(), "eventType": event.event_type(),
            "taskId": event.task_id(), "host": delivery.host(), "attempts": attempts.len()});
        println!("{summary}");
    } else {
        println!(
            "{outcome}: {} {} to {} after {} attempt(s) (delivery id {})",
            event.event_type(),
            event.task_id(),
            delivery.host(),
            attempts.len(),
            event.id()
        );
    }
}
