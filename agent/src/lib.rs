//! Webhook delivery for Guardrails: the delivery engine, independent of Kubernetes.
//!
//! The sidecar, the standalone REST api and the `guardrails-agent send` command all deliver
//! events through this library. Modules, in the order a delivery meets them:
//! - [`event`]: the `task.completed` / `task.failed` payloads and their body bytes;
//! - [`canonical`]: JSON bytes identical to Python's `json.dumps(sort_keys=True, separators=(',', ':'))`;
//! - [`signing`]: the `X-Guardrails-Signature` and Standard Webhooks headers, and [`signing::Verifier`] for receivers;
//! - [`domain`]: domain patterns (`partner.io`, `*.partner.io`, an IP), shared by allowlist and endpoints;
//! - [`allowlist`]: which destination hosts are allowed;
//! - [`ssrf`]: the resolver that refuses non-public addresses at connect time;
//! - [`transport`]: trusted CAs, client certificates and static headers; the pool of HTTP clients;
//! - [`rate_limit`]: the Redis fixed-window limiter per destination host;
//! - [`host_limit`]: each destination host's adaptive share of the attempts in flight;
//! - [`policy`]: the effective policy of one delivery (timeouts, attempts, schedule, secrets);
//! - [`attempt`]: the recorded history of attempts (mirrors `status.delivery.attempts[]`);
//! - [`decision`]: the pure "what next" function of a delivery;
//! - [`deliverer`]: the one driver: [`Deliverer::step`] decides, applies the policy, sends and
//!   records one attempt through an [`deliverer::AttemptSink`]; [`Deliverer::deliver`] loops over it;
//! - [`clock`]: wall time, injectable for tests;
//! - [`metrics`]: Prometheus counters of attempts and of rate-limiter failures;
//! - [`config`]: the environment configuration (docs/configuration.md);
//! - [`send`]: the `guardrails-agent send` command;
//! - [`sidecar`]: the `guardrails-agent run` sidecar (the only Kubernetes-aware module).

pub mod allowlist;
pub mod attempt;
pub mod canonical;
pub mod clock;
pub mod config;
pub mod decision;
pub mod deliverer;
pub mod domain;
pub mod event;
pub mod host_limit;
pub mod metrics;
pub mod policy;
pub mod rate_limit;
pub mod send;
pub mod sidecar;
pub mod signing;
pub mod ssrf;
pub mod transport;

pub use allowlist::AllowList;
pub use attempt::{AttemptOutcome, DeliveryAttempt, Outcome};
pub use clock::{Clock, SystemClock};
pub use config::Config;
pub use decision::{NextStep, next_step, not_before};
pub use deliverer::{AttemptSink, Deliverer, Delivery, DeliveryReport, Step};
pub use domain::DomainPattern;
pub use event::{Event, EventType};
pub use policy::{Policy, SigningSecret};
pub use rate_limit::RateLimiter;
pub use signing::Verifier;
pub use ssrf::NetworkGuard;

/// Every error of the delivery engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A destination URL that cannot be delivered to.
    #[error("invalid webhook URL: {0}")]
    InvalidUrl(String),
    /// A domain pattern (allowlist entry or WebhookEndpoint domain) that cannot be used.
    #[error(
        "invalid domain `{0}`: expected a host such as `partner.io`, a wildcard such as \
         `*.partner.io`, or an IP address"
    )]
    InvalidDomain(String),
    /// A CIDR of `WEBHOOK_ALLOWED_CIDRS` that does not parse.
    #[error("invalid CIDR `{0}` in the allowed CIDRs: expected a network such as `10.1.0.0/16`")]
    InvalidCidr(String),
    /// A signing secret that cannot be used (the value itself is never shown).
    #[error("invalid signing secret: {0}")]
    InvalidSecret(&'static str),
    /// A configuration value that cannot be used.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// A payload that is not the JSON expected.
    #[error("invalid payload: {0}")]
    InvalidPayload(String),
    /// The SSRF guard refused a destination whose addresses are not public.
    #[error(
        "destination `{0}` has no public address; private destinations need \
         WEBHOOK_ALLOW_PRIVATE_DESTINATIONS or WEBHOOK_ALLOWED_CIDRS"
    )]
    DestinationRefused(String),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// The Redis URL of the rate limiter is unusable.
    #[error("invalid Redis URL for the rate limiter: {0}")]
    RedisUrl(#[source] redis::RedisError),
    /// The caller's attempt sink cut the attempt in flight, so the delivery stopped unrecorded.
    #[error("the attempt in flight was cut before its end was recorded")]
    Cut,
    /// The caller's attempt sink failed to record an attempt, so the delivery stopped.
    #[error("could not record the delivery attempt: {0}")]
    Sink(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A received webhook lacks a header needed to verify it.
    #[error("missing or malformed header `{0}`")]
    MissingHeader(&'static str),
    /// A received webhook's timestamp is outside the accepted tolerance.
    #[error("webhook timestamp is outside the tolerance of {0} seconds")]
    TimestampOutOfTolerance(u64),
    /// No signature of a received webhook matches any of the secrets.
    #[error("no webhook signature matches")]
    SignatureMismatch,
    /// A call to the Kubernetes API failed.
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// Leader election on the agent's Lease failed.
    #[error("leader election: {0}")]
    Lease(String),
}

impl Error {
    /// A short label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::InvalidUrl(_) => "invalid_url",
            Error::InvalidDomain(_) => "invalid_domain",
            Error::InvalidCidr(_) => "invalid_cidr",
            Error::InvalidSecret(_) => "invalid_secret",
            Error::InvalidConfig(_) => "invalid_config",
            Error::InvalidPayload(_) => "invalid_payload",
            Error::DestinationRefused(_) => "destination_refused",
            Error::HttpClient(_) => "http_client",
            Error::RedisUrl(_) => "redis_url",
            Error::Cut => "cut",
            Error::Sink(_) => "sink",
            Error::MissingHeader(_) => "missing_header",
            Error::TimestampOutOfTolerance(_) => "timestamp_out_of_tolerance",
            Error::SignatureMismatch => "signature_mismatch",
            Error::Kube(_) => "kube",
            Error::Lease(_) => "lease",
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
