//! Fair shares of the send slots: each destination server (`host:port`) gets an adaptive number
//! of attempts in flight, so one that stops answering cannot take the slots every other needs.
//!
//! Additive increase, multiplicative decrease per destination: a new one may have one
//! [`INITIAL_SHARE`]th of the global limit in flight; every answer (any HTTP status) adds one
//! slot up to the global limit; every timeout or connection failure halves its slots, down to one.

use crate::attempt::AttemptOutcome;
use std::collections::HashMap;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// The share of the global limit a host starts with (one eighth).
pub const INITIAL_SHARE: usize = 8;

/// Most idle hosts remembered; beyond it, idle hosts are forgotten (and start afresh).
const MAX_REMEMBERED_HOSTS: usize = 10_000;

/// Per-host slots of attempts in flight.
#[derive(Debug)]
pub struct HostLimits {
    max: usize,
    hosts: Mutex<HashMap<String, HostState>>,
}

#[derive(Debug)]
struct HostState {
    limit: usize,
    in_flight: usize,
    freed: Arc<Notify>,
}

impl HostLimits {
    /// Slots for hosts under a global limit of `max` attempts in flight.
    pub fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            hosts: Mutex::default(),
        }
    }

    /// Whether `host` could start an attempt now.
    pub fn has_room(&self, host: &str) -> bool {
        let hosts = self.hosts.lock().expect("poisoned");
        hosts.get(host).is_none_or(|s| s.in_flight < s.limit)
    }

    /// How many attempts `host` may have in flight now.
    pub fn limit(&self, host: &str) -> usize {
        let hosts = self.hosts.lock().expect("poisoned");
        hosts.get(host).map_or(self.initial(), |s| s.limit)
    }

    /// Waits for a slot of `host`.
    pub async fn acquire(&self, host: &str) -> HostSlot<'_> {
        loop {
            let freed = {
                let mut hosts = self.hosts.lock().expect("poisoned");
                if hosts.len() >= MAX_REMEMBERED_HOSTS && !hosts.contains_key(host) {
                    hosts.retain(|_, s| s.in_flight > 0);
                }
                let initial = self.initial();
                let state = hosts.entry(host.to_owned()).or_insert_with(|| HostState {
                    limit: initial,
                    in_flight: 0,
                    freed: Arc::default(),
                });
                if state.in_flight < state.limit {
                    state.in_flight += 1;
                    return HostSlot {
                        limits: self,
                        host: host.to_owned(),
                        outcome: None,
                    };
                }
                state.freed.clone()
            };
            let mut notified = pin!(freed.notified());
            // NB: registered before the re-check, so a slot freed in between is not missed.
            notified.as_mut().enable();
            if self.has_room(host) {
                continue;
            }
            notified.await;
        }
    }

    /// Waits until `host` has a free slot (without taking it).
    pub async fn until_room(&self, host: &str) {
        drop(self.acquire(host).await);
    }

    fn initial(&self) -> usize {
        (self.max / INITIAL_SHARE).max(1)
    }

    fn release(&self, host: &str, outcome: Option<AttemptOutcome>) {
        let mut hosts = self.hosts.lock().expect("poisoned");
        let Some(state) = hosts.get_mut(host) else {
            return;
        };
        state.in_flight = state.in_flight.saturating_sub(1);
        match outcome {
            Some(AttemptOutcome::Timeout | AttemptOutcome::ConnectionError) => {
                state.limit = (state.limit / 2).max(1);
            }
            Some(AttemptOutcome::Succeeded | AttemptOutcome::HttpError) => {
                state.limit = (state.limit + 1).min(self.max);
            }
            _ => {}
        }
        state.freed.notify_waiters();
    }
}

/// One attempt's slot of its host; freed when dropped.
#[derive(Debug)]
pub struct HostSlot<'a> {
    limits: &'a HostLimits,
    host: String,
    outcome: Option<AttemptOutcome>,
}

impl HostSlot<'_> {
    /// Frees the slot and adjusts the host's share by how the attempt ended.
    pub fn finish(mut self, outcome: AttemptOutcome) {
        self.outcome = Some(outcome);
    }
}

impl Drop for HostSlot<'_> {
    fn drop(&mut self) {
        self.limits.release(&self.host, self.outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_new_host_gets_an_eighth_of_the_slots() {
        let limits = HostLimits::new(64);
        let mut slots = Vec::new();
        for _ in 0..8 {
            slots.push(limits.acquire("a.io").await);
        }
        assert!(!limits.has_room("a.io"));
        assert!(limits.has_room("b.io"), "another host is not affected");
        drop(slots.pop());
        assert!(limits.has_room("a.io"));
    }

    #[tokio::test]
    async fn timeouts_halve_a_hosts_slots_down_to_one_and_answers_grow_them() {
        let limits = HostLimits::new(64);
        for expected in [4, 2, 1, 1] {
            limits
                .acquire("stuck.io")
                .await
                .finish(AttemptOutcome::Timeout);
            assert_eq!(limits.limit("stuck.io"), expected);
        }
        limits
            .acquire("stuck.io")
            .await
            .finish(AttemptOutcome::HttpError);
        assert_eq!(limits.limit("stuck.io"), 2, "any answer counts as alive");
        for _ in 0..100 {
            limits
                .acquire("ok.io")
                .await
                .finish(AttemptOutcome::Succeeded);
        }
        assert_eq!(limits.limit("ok.io"), 64, "never above the global limit");
    }

    #[tokio::test]
    async fn a_waiter_gets_the_slot_that_is_freed() {
        let limits = Arc::new(HostLimits::new(8));
        let held = limits.acquire("a.io").await;
        let waiter = tokio::spawn({
            let limits = limits.clone();
            async move {
                limits
                    .acquire("a.io")
                    .await
                    .finish(AttemptOutcome::Succeeded);
            }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            !waiter.is_finished(),
            "one slot for a new host of a limit of 8"
        );
        drop(held);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("the waiter got the freed slot")
            .unwrap();
    }

    #[tokio::test]
    async fn rate_limited_and_rejected_attempts_leave_the_share_alone() {
        let limits = HostLimits::new(64);
        for outcome in [AttemptOutcome::RateLimited, AttemptOutcome::Rejected] {
            limits.acquire("a.io").await.finish(outcome);
        }
        assert_eq!(limits.limit("a.io"), 8);
    }
}
