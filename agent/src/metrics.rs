//! Prometheus metrics of the delivery engine.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// Labels of the attempts counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// The attempt outcome, e.g. `succeeded` or `rate_limited`.
    pub outcome: &'static str,
}

/// Counters of a [`crate::Deliverer`]; cheap to clone, clones share values.
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    /// Finished attempts by outcome.
    pub attempts: Family<OutcomeLabels, Counter>,
    /// Rate-limit checks that failed open because Redis was unreachable.
    pub rate_limiter_fail_open: Counter,
}

impl Metrics {
    /// Registers the counters under the `guardrails_webhook` prefix.
    pub fn register(&self, registry: &mut Registry) {
        let registry = registry.sub_registry_with_prefix("guardrails_webhook");
        registry.register(
            "attempts",
            "Webhook delivery attempts by outcome",
            self.attempts.clone(),
        );
        registry.register(
            "rate_limiter_fail_open",
            "Rate-limit checks sent unlimited because Redis was unreachable",
            self.rate_limiter_fail_open.clone(),
        );
    }

    /// How many finished attempts had `outcome`.
    pub fn attempts_with(&self, outcome: &'static str) -> u64 {
        self.attempts
            .get_or_create(&OutcomeLabels { outcome })
            .get()
    }
}
