//! Fault injection for resilience tests: chosen requests get an error code or extra latency.

use std::{sync::Mutex, time::Duration};

/// What an injected fault does to a matching request.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultAction {
    /// Answer with this HTTP code (409, 429, 500, 503, …) and a matching `Status`.
    Respond(u16),
    /// Wait this long before handling the request normally.
    Delay(Duration),
}

/// A rule: which requests, what happens, how many times.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    method: Option<String>,
    path_contains: Option<String>,
    action: FaultAction,
    remaining: Option<usize>,
}

impl Fault {
    /// Answers matching requests with `code`.
    pub fn respond(code: u16) -> Self {
        Self {
            method: None,
            path_contains: None,
            action: FaultAction::Respond(code),
            remaining: None,
        }
    }

    /// Delays matching requests by `delay`.
    pub fn delay(delay: Duration) -> Self {
        Self {
            method: None,
            path_contains: None,
            action: FaultAction::Delay(delay),
            remaining: None,
        }
    }

    /// Only requests with this HTTP method (`GET`, `PATCH`, …).
    pub fn on_method(mut self, method: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self
    }

    /// Only requests whose path and query contain this text (e.g. `/status`, `watch=true`).
    pub fn on_path_containing(mut self, text: &str) -> Self {
        self.path_contains = Some(text.to_string());
        self
    }

    /// Only the next `n` matching requests.
    pub fn times(mut self, n: usize) -> Self {
        self.remaining = Some(n);
        self
    }

    fn matches(&self, method: &str, path_and_query: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m == method)
            && self
                .path_contains
                .as_deref()
                .is_none_or(|p| path_and_query.contains(p))
    }
}

/// The active fault rules of a test server.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<Vec<Fault>>,
}

impl Faults {
    /// Adds a rule; rules apply in the order they were added.
    pub fn add(&self, fault: Fault) {
        self.rules.lock().expect("fault lock").push(fault);
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.rules.lock().expect("fault lock").clear();
    }

    /// The actions for one request, using up counted rules.
    pub fn take(&self, method: &str, path_and_query: &str) -> Vec<FaultAction> {
        let mut rules = self.rules.lock().expect("fault lock");
        let mut actions = Vec::new();
        for rule in rules
            .iter_mut()
            .filter(|r| r.matches(method, path_and_query))
        {
            actions.push(rule.action.clone());
            if let Some(n) = rule.remaining.as_mut() {
                *n -= 1;
            }
        }
        rules.retain(|r| r.remaining != Some(0));
        actions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counted_fault_applies_only_to_matching_requests_and_then_stops() {
        let faults = Faults::default();
        faults.add(
            Fault::respond(503)
                .on_method("patch")
                .on_path_containing("/status")
                .times(2),
        );
        assert!(
            faults
                .take("PATCH", "/apis/g/v1/namespaces/n/things/a")
                .is_empty()
        );
        assert!(
            faults
                .take("GET", "/apis/g/v1/namespaces/n/things/a/status")
                .is_empty()
        );
        assert_eq!(
            faults.take("PATCH", "/apis/g/v1/namespaces/n/things/a/status"),
            [FaultAction::Respond(503)]
        );
        assert_eq!(
            faults.take("PATCH", "/apis/g/v1/namespaces/n/things/a/status"),
            [FaultAction::Respond(503)]
        );
        assert!(
            faults
                .take("PATCH", "/apis/g/v1/namespaces/n/things/a/status")
                .is_empty()
        );
    }

    #[test]
    fn an_uncounted_delay_applies_to_every_request_until_cleared() {
        let faults = Faults::default();
        faults.add(Fault::delay(Duration::from_millis(5)));
        for _ in 0..3 {
            assert_eq!(
                faults.take("GET", "/api/v1/namespaces"),
                [FaultAction::Delay(Duration::from_millis(5))]
            );
        }
        faults.clear();
        assert!(faults.take("GET", "/api/v1/namespaces").is_empty());
    }
}
