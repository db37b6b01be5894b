//! Prometheus metrics of the sidecar, on top of the engine's attempt counters.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of the deliveries counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    /// The final outcome: `succeeded`, `failed`, `rejected` or `not_requested`.
    pub outcome: &'static str,
}

/// The sidecar's metrics; clones share values.
#[derive(Clone, Debug)]
pub struct SidecarMetrics {
    /// Deliveries that ended, by outcome.
    pub deliveries: Family<DeliveryLabels, Counter>,
    /// Seconds from the task's `completedAt` to the receiver's 2xx.
    pub completion_to_delivery: Histogram,
    /// Attempts being sent right now.
    pub in_flight: Gauge,
    /// Attempts recorded as interrupted: found in progress at start-up, or cut when the Lease was lost.
    pub interrupted: Counter,
}

impl Default for SidecarMetrics {
    fn default() -> Self {
        let buckets = [
            0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
        ];
        Self {
            deliveries: Family::default(),
            completion_to_delivery: Histogram::new(buckets),
            in_flight: Gauge::default(),
            interrupted: Counter::default(),
        }
    }
}

impl SidecarMetrics {
    /// Registers the metrics under the `guardrails_webhook` prefix.
    pub fn register(&self, registry: &mut Registry) {
        let registry = registry.sub_registry_with_prefix("guardrails_webhook");
        registry.register(
            "deliveries",
            "Webhook deliveries that ended, by outcome",
            self.deliveries.clone(),
        );
        registry.register(
            "completion_to_delivery_seconds",
            "Seconds from a task's completion to the receiver's 2xx",
            self.completion_to_delivery.clone(),
        );
        registry.register(
            "in_flight",
            "Webhook attempts being sent right now",
            self.in_flight.clone(),
        );
        registry.register(
            "interrupted_attempts",
            "Attempts recorded as interrupted (found in progress at start-up, or cut when the Lease was lost)",
            self.interrupted.clone(),
        );
    }

    /// Counts a delivery that ended with `outcome`.
    pub fn delivery_ended(&self, outcome: &'static str) {
        self.deliveries
            .get_or_create(&DeliveryLabels { outcome })
            .inc();
    }
}
