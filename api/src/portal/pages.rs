//! The HTML of the portal's pages. Values are escaped by `maud`; no page shows a PII value or a
//! secret's data: findings are types, positions and scores, secrets are named, never read.

use axum::http::StatusCode;
use guardrails_crds::WebhookEndpoint;
use guardrails_crds::conditions::find_condition;
use maud::{DOCTYPE, Markup, html};
use serde_json::Value;

use super::charts::{self, LastHour};
use super::session::Session;
use super::{TEST_EVENT_TEXT, TaskFilter};
use crate::backend::{Backend, Listed};
use crate::model::{TaskState, TaskView, WebhookView};
use crate::routes::AppState;

/// The portal's stylesheet (colours chosen for a contrast of at least 4.5:1).
pub const STYLESHEET: &str = include_str!("portal.css");

/// The sections of the navigation.
#[derive(Clone, Copy, PartialEq)]
enum Section {
    Tasks,
    Endpoints,
    Deliveries,
    None,
}

/// A whole page: head, navigation (with the logout form), the title and `body`.
fn layout(title: &str, section: Section, session: Option<&Session>, body: Markup) -> Markup {
    let link = |href: &str, name: &str, this: Section| {
        html! {
            a href=(href) aria-current=[(section == this).then_some("page")] { (name) }
        }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Guardrails" }
                link rel="stylesheet" href="/ui/static/portal.css";
            }
            body {
                header {
                    span class="brand" { "Guardrails" }
                    @if let Some(session) = session {
                        nav aria-label="Portal" {
                            (link("/ui/tasks", "Tasks", Section::Tasks))
                            (link("/ui/endpoints", "Endpoints", Section::Endpoints))
                            (link("/ui/deliveries", "Deliveries", Section::Deliveries))
                        }
                        form method="post" action="/ui/logout" class="logout" {
                            (token(session))
                            button type="submit" { "Log out" }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The header row of a table: one column header per name (empty names are left out).
fn header(names: &[&str]) -> Markup {
    html! {
        thead { tr { @for name in names.iter().filter(|n| !n.is_empty()) { th scope="col" { (name) } } } }
    }
}

/// The hidden CSRF field of a form.
fn token(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf_token()); }
}

/// The message of a notice code, shown after an action.
fn notice(code: &str) -> Markup {
    let text = match code {
        "submitted" => "The task was submitted.",
        "test-event" => "A test event was submitted; its delivery appears below.",
        "redelivery" => "A new delivery round was requested.",
        "suspended" => "The endpoint is suspended: its deliveries wait until it is resumed.",
        "resumed" => "The endpoint is resumed.",
        _ => return html! {},
    };
    html! { p class="notice" role="status" { (text) } }
}

/// The login page, with an error after a wrong key.
pub fn login(nonce: &str, error: Option<&str>) -> Markup {
    layout(
        "Log in",
        Section::None,
        None,
        html! {
            @if let Some(error) = error {
                p class="error" role="alert" { (error) }
            }
            p { "Enter one of the API keys of this Guardrails api. It is kept only as a signed session cookie that ends after 12 hours." }
            form method="post" action="/ui/login" {
                input type="hidden" name="csrf" value=(nonce);
                label for="api_key" { "API key" }
                input id="api_key" name="api_key" type="password" autocomplete="current-password" required;
                button type="submit" { "Log in" }
            }
        },
    )
}

/// An error page.
pub fn error(status: StatusCode, detail: &str) -> Markup {
    let title = status.canonical_reason().unwrap_or("Error");
    layout(
        title,
        Section::None,
        None,
        html! {
            p class="error" role="alert" { (detail) }
            p { a href="/ui/tasks" { "Back to the tasks" } }
        },
    )
}

const DELIVERIES: [&str; 6] = [
    "Pending",
    "Succeeded",
    "Failed",
    "Rejected",
    "NotRequested",
    "none",
];

/// A `<select>` of `options` with an "any" first choice.
fn select(id: &str, label: &str, options: &[&str], chosen: &str) -> Markup {
    html! {
        label for=(id) { (label) }
        select id=(id) name=(id) {
            option value="" selected[chosen.is_empty()] { "any" }
            @for option in options {
                option value=(option) selected[*option == chosen] { (option) }
            }
        }
    }
}

/// Recent tasks with their filters, and the form to submit one; `namespaces` (Kubernetes mode)
/// are those of the tasks known.
pub fn tasks(
    session: &Session,
    filter: &TaskFilter,
    namespaces: &[&str],
    tasks: &[&Listed],
) -> Markup {
    let kubernetes = !namespaces.is_empty() || !filter.namespace.is_empty();
    layout(
        "Tasks",
        Section::Tasks,
        Some(session),
        html! {
            (notice(&filter.notice))
            form method="get" action="/ui/tasks" class="filters" {
                (select("status", "Task status", &TaskState::ALL.map(TaskState::as_str), &filter.status))
                (select("delivery", "Delivery", &DELIVERIES, &filter.delivery))
                @if kubernetes { (select("namespace", "Namespace", namespaces, &filter.namespace)) }
                button type="submit" { "Filter" }
            }
            @if tasks.is_empty() {
                p { "No task matches." }
            } @else {
                table {
                    caption { "Recent tasks (" (tasks.len()) ")" }
                    (header(&[
                        "Task", if kubernetes { "Namespace" } else { "" }, "Submitted", "Status",
                        "Delivery", "Round", "Attempts",
                    ]))
                    tbody {
                        @for listed in tasks {
                            @let task = &listed.view;
                            tr {
                                td { a href=(format!("/ui/tasks/{}", task.task_id)) { code { (task.task_id) } } }
                                @if kubernetes { td { (listed.namespace.as_deref().unwrap_or_default()) } }
                                td { (task.submitted_at) }
                                td { (task.status.as_str()) }
                                td { (task.webhook.as_ref().map_or("none", |w| w.status.as_str())) }
                                td { (task.webhook.as_ref().and_then(|w| w.round).map(|r| r.to_string()).unwrap_or_default()) }
                                td { (task.webhook.as_ref().map_or(0, |w| w.attempts.len())) }
                            }
                        }
                    }
                }
            }
            h2 { "Submit a task" }
            form method="post" action="/ui/tasks" class="stacked" {
                (token(session))
                label for="text" { "Text to analyse" }
                textarea id="text" name="text" rows="4" required {}
                label for="webhook_url" { "Webhook URL (optional)" }
                input id="webhook_url" name="webhook_url" type="url" placeholder="https://hooks.example.com/guardrails";
                div class="check" {
                    input id="sign_payload" name="sign_payload" type="checkbox" value="true" checked;
                    label for="sign_payload" { "Sign the webhook" }
                }
                div class="check" {
                    input id="include_redaction" name="include_redaction" type="checkbox" value="true";
                    label for="include_redaction" { "Include the redacted text in the result" }
                }
                button type="submit" { "Submit" }
            }
        },
    )
}

/// One task: status, findings without values, and the delivery timeline with its actions.
pub fn task(session: &Session, view: &TaskView, notice_code: &str) -> Markup {
    layout(
        "Task",
        Section::Tasks,
        Some(session),
        html! {
            (notice(notice_code))
            dl {
                dt { "Task id" } dd { code { (view.task_id) } }
                dt { "Status" } dd { (view.status.as_str()) }
                dt { "Submitted" } dd { (view.submitted_at) }
                @if let Some(at) = &view.started_at { dt { "Started" } dd { (at) } }
                @if let Some(at) = &view.completed_at { dt { "Completed" } dd { (at) } }
                @if let Some(error) = &view.error { dt { "Error" } dd { (error) } }
            }
            p { a href=(format!("/ui/tasks/{}", view.task_id)) { "Reload to see new attempts" } }
            @if let Some(result) = &view.result { (findings(result)) }
            @match &view.webhook {
                Some(webhook) => (timeline(session, &view.task_id, webhook)),
                None => p { "This task has no webhook." },
            }
        },
    )
}

/// The findings of a result: type, position and score of each, and the risk.
fn findings(result: &Value) -> Markup {
    let entities = result["pii"]["entities"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    html! {
        h2 { "Findings" }
        p {
            "Risk: " (result["risk"]["overall_level"].as_str().unwrap_or("unknown"))
            " (score " (result["risk"]["overall_score"]) "). "
            (entities.len()) " entities detected; values are never shown here."
        }
        @if !entities.is_empty() {
            table {
                caption { "Detected entities" }
                (header(&["Type", "Start", "End", "Score"]))
                tbody {
                    @for entity in &entities {
                        tr {
                            td { (entity["type"].as_str().unwrap_or_default()) }
                            td { (entity["position"]["start"]) }
                            td { (entity["position"]["end"]) }
                            td { (entity["confidence"]) }
                        }
                    }
                }
            }
        }
    }
}

/// The delivery of a task: phase, round, next attempt, every attempt, and the redeliver form.
fn timeline(session: &Session, task_id: &str, webhook: &WebhookView) -> Markup {
    let can_redeliver = matches!(webhook.status.as_str(), "Failed" | "Rejected");
    html! {
        h2 { "Delivery" }
        dl {
            dt { "Phase" } dd { (webhook.status) }
            dt { "Round" } dd { (webhook.round.unwrap_or(1)) }
            @if let Some(at) = &webhook.next_attempt_at { dt { "Next attempt" } dd { (at) } }
            @if let Some(message) = &webhook.message { dt { "Message" } dd { (message) } }
        }
        @if webhook.attempts.is_empty() {
            p { "No attempt yet." }
        } @else {
            table {
                caption { "Delivery attempts, oldest first" }
                (header(&[
                    "Round", "Attempt", "Started", "Outcome", "HTTP status", "Latency (ms)", "Error",
                ]))
                tbody {
                    @for attempt in &webhook.attempts {
                        tr {
                            td { (attempt.round.unwrap_or(1)) }
                            td { (attempt.number) }
                            td { (attempt.started_at) }
                            td { (attempt.outcome) }
                            td { (attempt.http_status.map(|s| s.to_string()).unwrap_or_default()) }
                            td { (attempt.duration_ms.map(|ms| ms.to_string()).unwrap_or_default()) }
                            td { (attempt.error.as_deref().or(attempt.warning.as_deref()).unwrap_or_default()) }
                        }
                    }
                }
            }
        }
        @if can_redeliver {
            form method="post" action=(format!("/ui/tasks/{task_id}/redeliver")) {
                (token(session))
                button type="submit" { "Redeliver" }
            }
        }
    }
}

/// The endpoints of the namespace (Kubernetes) or the server-wide policy (standalone), with
/// the test-event form.
pub fn endpoints(
    session: &Session,
    app: &AppState,
    endpoints: Option<&[std::sync::Arc<WebhookEndpoint>]>,
    notice_code: &str,
) -> Markup {
    layout(
        "Endpoints",
        Section::Endpoints,
        Some(session),
        html! {
            (notice(notice_code))
            @match (endpoints, &app.backend) {
                (Some(endpoints), _) => (endpoint_table(session, endpoints)),
                (None, Backend::Standalone(tasks)) => (standalone_policy(tasks.policy())),
                (None, Backend::Kubernetes(_)) => p { "No WebhookEndpoint is known." },
            }
            h2 { "Send a test event" }
            p { "Submits a task whose text holds no personal data (“" (TEST_EVENT_TEXT) "”) with this webhook; it is delivered signed, under the policy of the URL's endpoint, like any other." }
            form method="post" action="/ui/endpoints/test" class="stacked" {
                (token(session))
                label for="url" { "Webhook URL" }
                input id="url" name="url" type="url" required placeholder="https://hooks.example.com/guardrails";
                button type="submit" { "Send test event" }
            }
        },
    )
}

fn endpoint_table(session: &Session, endpoints: &[std::sync::Arc<WebhookEndpoint>]) -> Markup {
    html! {
        @if endpoints.is_empty() {
            p { "This namespace has no WebhookEndpoint." }
        } @else {
            table {
                caption { "WebhookEndpoints" }
                (header(&[
                    "Name", "Namespace", "Domains", "Ready", "Secrets", "Succeeded", "Failed",
                    "Rejected", "Rate limited", "Last delivery", "Suspended",
                ]))
                tbody {
                    @for endpoint in endpoints { (endpoint_row(session, endpoint)) }
                }
            }
        }
    }
}

fn endpoint_row(session: &Session, endpoint: &WebhookEndpoint) -> Markup {
    let name = endpoint.metadata.name.clone().unwrap_or_default();
    let namespace = endpoint.metadata.namespace.clone().unwrap_or_default();
    let status = endpoint.status.clone().unwrap_or_default();
    let ready = find_condition(&status.conditions, "Ready");
    let secrets: Vec<&str> = endpoint
        .spec
        .signing_secret_ref
        .iter()
        .map(|r| r.name.as_str())
        .chain(endpoint.spec.transport_secret_names())
        .collect();
    let suspended = endpoint.spec.suspend;
    html! {
        tr {
            th scope="row" { (name) }
            td { (namespace) }
            td { (endpoint.spec.domains.join(", ")) }
            td {
                @match ready {
                    Some(c) => { (c.status) " (" (c.reason) ")" @if c.status != "True" { br; (c.message) } },
                    None => "unknown",
                }
            }
            td { (secrets.join(", ")) }
            td { (status.succeeded) } td { (status.failed) } td { (status.rejected) } td { (status.rate_limited) }
            td {
                @if let Some(last) = &status.last_delivery {
                    (last.time.0.to_string()) ": " (last.outcome)
                    @if let Some(code) = last.http_status { " (HTTP " (code) ")" }
                    br; a href=(format!("/ui/tasks/{}", last.task_id)) { "task" }
                }
            }
            td {
                (if suspended { "yes" } else { "no" })
                form method="post" action=(format!("/ui/endpoints/{namespace}/{name}/suspend")) {
                    (token(session))
                    input type="hidden" name="suspend" value=(if suspended { "false" } else { "true" });
                    button type="submit" aria-label=(format!("{} {name}", if suspended { "Resume" } else { "Suspend" })) {
                        (if suspended { "Resume" } else { "Suspend" })
                    }
                }
            }
        }
    }
}

fn standalone_policy(policy: &guardrails_agent::Policy) -> Markup {
    let domains: Vec<String> = policy
        .allowlist
        .entries()
        .iter()
        .map(ToString::to_string)
        .collect();
    let headers: Vec<&str> = policy
        .transport
        .as_ref()
        .map(|t| t.headers.keys().map(|k| k.as_str()).collect())
        .unwrap_or_default();
    html! {
        p { "Standalone mode has no WebhookEndpoints: every delivery follows the server's policy." }
        dl {
            dt { "Allowed domains" }
            dd { @if domains.is_empty() { "every host" } @else { (domains.join(", ")) } }
            dt { "Signing secrets" } dd { (policy.secrets.len()) " configured" }
            dt { "Rate limit" }
            dd {
                @if policy.rate_limit_per_minute == 0 { "none" }
                @else { (policy.rate_limit_per_minute) " per minute and host" }
            }
            dt { "Timeout" } dd { (policy.timeout.as_secs()) " s" }
            dt { "Attempts" } dd { "at most " (policy.max_attempts) }
            dt { "Static headers" } dd { @if headers.is_empty() { "none" } @else { (headers.join(", ")) } }
            @if let Err(reason) = &policy.transport { dt { "Transport" } dd { (reason) } }
        }
    }
}

/// The last hour's charts, with their numbers as a table.
pub fn deliveries(session: &Session, hour: &LastHour) -> Markup {
    layout(
        "Deliveries",
        Section::Deliveries,
        Some(session),
        html! {
            p { "Delivery attempts of the last hour, from the tasks this api knows." }
            h2 { "Attempts per five minutes" }
            (charts::rate_chart(hour))
            p class="legend" { span class="key ok" {} "succeeded " span class="key failed" {} "not succeeded" }
            h2 { "Attempts by outcome" }
            (charts::outcome_chart(hour))
            table {
                caption { "Attempts by outcome, last hour" }
                (header(&["Outcome", "Attempts"]))
                tbody {
                    @for (outcome, count) in &hour.outcomes { tr { td { (outcome) } td { (count) } } }
                    tr { td { "all" } td { (hour.total()) } }
                }
            }
        },
    )
}
