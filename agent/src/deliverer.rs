//! The one driver of a delivery: [`Deliverer::step`] decides, applies the policy, sends one
//! attempt with a pooled HTTP client and reports it to an [`AttemptSink`].

use crate::attempt::{AttemptOutcome, DeliveryAttempt, Outcome};
use crate::clock::{Clock, SystemClock};
use crate::decision::{NextStep, next_step, not_before};
use crate::event::Event;
use crate::host_limit::HostLimits;
use crate::metrics::{Metrics, OutcomeLabels};
use crate::policy::Policy;
use crate::rate_limit::{RateDecision, RateLimiter};
use crate::signing::delivery_headers;
use crate::ssrf::NetworkGuard;
use crate::transport::ClientPool;
use crate::{Error, Result};
use jiff::{SignedDuration, Timestamp};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use url::Url;

/// Most response-body bytes read (so the connection can be reused) before it is dropped.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// An error of an [`AttemptSink`].
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Where attempts are reported: `started` before bytes leave, `finished` after every attempt,
/// `held` while the policy suspends the delivery; `cut` can abandon an attempt in flight.
///
/// Attempts stopped before the request (allowlist, IP-literal guard, rate limit) are only
/// reported as finished. An error stops the delivery before the send (from `started`) or before
/// the next attempt (from `finished`).
pub trait AttemptSink: Send + Sync {
    /// Records an attempt about to send (its outcome is `in_progress`).
    fn started(
        &self,
        delivery: &Delivery,
        attempt: &DeliveryAttempt,
    ) -> impl Future<Output = Result<(), SinkError>> + Send;
    /// Records an attempt that ended.
    fn finished(
        &self,
        delivery: &Delivery,
        attempt: &DeliveryAttempt,
    ) -> impl Future<Output = Result<(), SinkError>> + Send;
    /// Records that the policy holds the delivery (`attempt` is its `suspended` record); called at
    /// every look while the hold lasts, so a sink records it once.
    fn held(
        &self,
        _delivery: &Delivery,
        _attempt: &DeliveryAttempt,
    ) -> impl Future<Output = Result<(), SinkError>> + Send {
        std::future::ready(Ok(()))
    }
    /// Completes when an attempt in flight must be abandoned unrecorded (e.g. the process lost
    /// its leadership); never, by default.
    fn cut(&self) -> impl Future<Output = ()> + Send {
        std::future::pending()
    }
}

/// A sink that records nothing.
impl AttemptSink for () {
    async fn started(&self, _: &Delivery, _: &DeliveryAttempt) -> Result<(), SinkError> {
        Ok(())
    }
    async fn finished(&self, _: &Delivery, _: &DeliveryAttempt) -> Result<(), SinkError> {
        Ok(())
    }
}

/// One event on its way to one destination under one policy.
#[derive(Clone, Debug)]
pub struct Delivery {
    event: Event,
    url: Url,
    host: String,
    destination: String,
    // NB: computed once, so every attempt sends the same bytes.
    body: Arc<[u8]>,
    policy: Policy,
}

impl Delivery {
    /// A delivery of `event` to `url` (http or https) under `policy`, its retry jitter picked by
    /// the event id.
    pub fn new(event: Event, url: &str, policy: Policy) -> Result<Self> {
        let policy = policy.with_jitter_key(event.id());
        let url = parse_destination(url)?;
        let host = url
            .host_str()
            .unwrap_or_default()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let body = event.body().into();
        let destination = format!("{host}:{}", url.port_or_known_default().unwrap_or_default());
        Ok(Self {
            event,
            url,
            host,
            destination,
            body,
            policy,
        })
    }

    /// The event delivered.
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// The destination URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The destination host name, as rate-limited and shown in messages.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The destination server, `host:port`: what gets a share of the send slots.
    pub fn destination(&self) -> &str {
        &self.destination
    }

    /// The effective policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The exact body bytes sent.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// Parses a webhook destination: an absolute http(s) URL with a host.
pub fn parse_destination(url: &str) -> Result<Url> {
    let parsed = Url::parse(url).map_err(|e| Error::InvalidUrl(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::InvalidUrl(format!(
            "scheme `{}` is not http or https",
            parsed.scheme()
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(Error::InvalidUrl("the URL has no host".into()));
    }
    Ok(parsed)
}

/// How often [`Deliverer::deliver`] looks again at a delivery its policy holds.
pub const HOLD_RECHECK: Duration = Duration::from_secs(15);

/// What one [`Deliverer::step`] did.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// One attempt was made and recorded; `next` is what follows it.
    Sent {
        /// The finished attempt.
        attempt: DeliveryAttempt,
        /// The step after it, decided from the history with this attempt.
        next: NextStep,
    },
    /// Nothing is due before this time.
    Due(Timestamp),
    /// The policy holds the delivery; nothing was sent. The `suspended` record of the hold.
    Held(DeliveryAttempt),
    /// An attempt is due, but its destination has no free share of the send slots.
    Busy,
    /// The sink cut the attempt in flight; it is not recorded.
    Cut,
    /// The delivery is over.
    Over(Outcome),
}

/// The number of the attempt after `history`.
fn next_number(history: &[DeliveryAttempt]) -> u32 {
    history.last().map_or(1, |a| a.number + 1)
}

fn add(at: Timestamp, delay: Duration) -> Timestamp {
    at.checked_add(SignedDuration::try_from(delay).unwrap_or(SignedDuration::MAX))
        .unwrap_or(Timestamp::MAX)
}

/// How a delivery ended, with every attempt made.
#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryReport {
    /// The final outcome.
    pub outcome: Outcome,
    /// All attempts, oldest first, including those passed in as history.
    pub attempts: Vec<DeliveryAttempt>,
}

/// Sends deliveries: pooled HTTP clients behind the SSRF guard, an optional rate limiter.
pub struct Deliverer {
    clients: ClientPool,
    guard: NetworkGuard,
    rate_limiter: Option<RateLimiter>,
    clock: Arc<dyn Clock>,
    in_flight: Semaphore,
    // NB: a share per destination host within `in_flight`, so one stuck host cannot hold them all.
    hosts: HostLimits,
    metrics: Metrics,
}

impl Deliverer {
    /// A deliverer whose connections pass `guard`, with the system clock and 64 sends in flight.
    pub fn new(guard: NetworkGuard) -> Result<Self> {
        Ok(Self {
            clients: ClientPool::new(guard.clone())?,
            guard,
            rate_limiter: None,
            clock: Arc::new(SystemClock),
            in_flight: Semaphore::new(64),
            hosts: HostLimits::new(64),
            metrics: Metrics::default(),
        })
    }

    /// The same deliverer counting deliveries per host in `limiter`.
    pub fn with_rate_limiter(mut self, limiter: RateLimiter) -> Self {
        self.metrics.rate_limiter_fail_open = limiter.fail_open_counter().clone();
        self.rate_limiter = Some(limiter);
        self
    }

    /// The same deliverer reading and waiting on `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The same deliverer with at most `limit` sends in flight at once (each destination host
    /// an adaptive share of them, see [`crate::host_limit`]).
    pub fn with_max_in_flight(mut self, limit: usize) -> Self {
        self.in_flight = Semaphore::new(limit.max(1));
        self.hosts = HostLimits::new(limit);
        self
    }

    /// Whether an attempt to `destination` (`host:port`) could be sent now without waiting for
    /// its share of the send slots.
    pub fn has_room_for(&self, destination: &str) -> bool {
        self.hosts.has_room(destination)
    }

    /// The deliverer's counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The rate limiter, if one is configured.
    pub fn rate_limiter(&self) -> Option<&RateLimiter> {
        self.rate_limiter.as_ref()
    }

    /// Drives a delivery to its end from `history`, waiting between steps on the clock.
    ///
    /// A delivery its policy suspends is looked at again every [`HOLD_RECHECK`] and does not end
    /// while the hold lasts; an attempt the sink cuts ends the delivery with [`Error::Cut`].
    pub async fn deliver(
        &self,
        delivery: &Delivery,
        history: Vec<DeliveryAttempt>,
        sink: &impl AttemptSink,
    ) -> Result<DeliveryReport> {
        let mut attempts = history;
        loop {
            match self.step(delivery, &attempts, None, sink).await? {
                Step::Sent { attempt, .. } => attempts.push(attempt),
                Step::Due(at) => self.clock.sleep_until(at).await,
                Step::Busy => self.hosts.until_room(&delivery.destination).await,
                Step::Held(record) => {
                    if attempts
                        .last()
                        .is_none_or(|a| a.outcome != AttemptOutcome::Suspended)
                    {
                        attempts.push(record);
                    }
                    self.clock
                        .sleep_until(add(self.clock.now(), HOLD_RECHECK))
                        .await;
                }
                Step::Cut => return Err(Error::Cut),
                Step::Over(outcome) => return Ok(DeliveryReport { outcome, attempts }),
            }
        }
    }

    /// Takes one step of a delivery whose attempts so far are `history`, never before `earliest`
    /// (a recorded schedule): decides what is due, holds it if its policy suspends it, defers it
    /// if its destination has no free share of the send slots, else makes one attempt (policy
    /// checks, then the signed POST) recorded through `sink`. Never waits for a due time.
    pub async fn step(
        &self,
        delivery: &Delivery,
        history: &[DeliveryAttempt],
        earliest: Option<Timestamp>,
        sink: &impl AttemptSink,
    ) -> Result<Step> {
        let now = self.clock.now();
        match not_before(next_step(&delivery.policy, history, now), earliest, now) {
            NextStep::WaitUntil(at) => Ok(Step::Due(at)),
            NextStep::Finish(outcome) => Ok(Step::Over(outcome)),
            NextStep::SendNow if delivery.policy.suspend => {
                let mut record = DeliveryAttempt::new(next_number(history), now);
                record.outcome = AttemptOutcome::Suspended;
                record.duration_ms = Some(0);
                sink.held(delivery, &record).await.map_err(Error::Sink)?;
                Ok(Step::Held(record))
            }
            NextStep::SendNow if !self.hosts.has_room(&delivery.destination) => Ok(Step::Busy),
            NextStep::SendNow => {
                let attempt = tokio::select! {
                    attempt = self.attempt(delivery, next_number(history), sink) => attempt?,
                    () = sink.cut() => return Ok(Step::Cut),
                };
                let mut attempts = history.to_vec();
                attempts.push(attempt.clone());
                let next = next_step(&delivery.policy, &attempts, self.clock.now());
                Ok(Step::Sent { attempt, next })
            }
        }
    }

    /// Makes attempt `number` now: policy checks, then the signed POST; returns the finished record.
    pub async fn attempt(
        &self,
        delivery: &Delivery,
        number: u32,
        sink: &impl AttemptSink,
    ) -> Result<DeliveryAttempt> {
        let now = self.clock.now();
        let mut attempt = DeliveryAttempt::new(number, now);
        if let Some(refusal) = self.refusal(delivery) {
            attempt.outcome = AttemptOutcome::Rejected;
            attempt.error = Some(refusal);
            return self.finish(delivery, attempt, Instant::now(), sink).await;
        }
        if let Some(limiter) = &self.rate_limiter
            && let RateDecision::Deferred { until } = limiter
                .check(&delivery.host, delivery.policy.rate_limit_per_minute, now)
                .await
        {
            attempt.outcome = AttemptOutcome::RateLimited;
            attempt.error = Some(format!(
                "rate limit of {}/min for `{}` reached; deferred to {until}",
                delivery.policy.rate_limit_per_minute, delivery.host
            ));
            return self.finish(delivery, attempt, Instant::now(), sink).await;
        }
        let policy = &delivery.policy;
        let (client, static_headers) = match self.transport(policy) {
            Ok(transport) => transport,
            Err(reason) => {
                attempt.outcome = AttemptOutcome::ConnectionError;
                attempt.error = Some(reason);
                return self.finish(delivery, attempt, Instant::now(), sink).await;
            }
        };
        let secrets = if policy.sign {
            policy.secrets.as_slice()
        } else {
            &[]
        };
        if policy.sign && secrets.is_empty() {
            attempt.warning =
                Some("signing was requested but no secret is configured; sent unsigned".into());
        }
        let headers = delivery_headers(
            delivery.event.id(),
            delivery.event.event_type(),
            &delivery.body,
            secrets,
            now,
        );
        // NB: the host's share first, so attempts waiting on a stuck host hold no global slot.
        let host_slot = self.hosts.acquire(&delivery.destination).await;
        let _permit = self
            .in_flight
            .acquire()
            .await
            .expect("the semaphore is never closed");
        sink.started(delivery, &attempt)
            .await
            .map_err(Error::Sink)?;
        let started = Instant::now();
        let response = client
            .post(delivery.url.clone())
            .headers(static_headers)
            .headers(headers)
            .body(delivery.body.to_vec())
            .timeout(policy.timeout)
            .send()
            .await;
        match response {
            Ok(response) => {
                let status = response.status();
                attempt.http_status = Some(status.as_u16());
                attempt.retry_after_seconds =
                    retry_after_seconds(response.headers(), self.clock.now());
                let drained = drain(response).await;
                if status.is_success() {
                    attempt.outcome = AttemptOutcome::Succeeded;
                    if let Err(e) = drained {
                        tracing::debug!(error = %e, "response body was cut short after a 2xx status");
                    }
                } else {
                    attempt.outcome = AttemptOutcome::HttpError;
                    attempt.error = Some(match attempt.retry_after_seconds {
                        Some(seconds) => format!(
                            "receiver answered HTTP {} (Retry-After: {seconds} s)",
                            status.as_u16()
                        ),
                        None => format!("receiver answered HTTP {}", status.as_u16()),
                    });
                }
            }
            Err(err) if err.is_timeout() => {
                attempt.outcome = AttemptOutcome::Timeout;
                attempt.error = Some(format!(
                    "no response within {} s",
                    policy.timeout.as_secs_f64()
                ));
            }
            Err(err) => match refused_destination(&err) {
                Some(host) => {
                    attempt.outcome = AttemptOutcome::Rejected;
                    attempt.error = Some(Error::DestinationRefused(host).to_string());
                }
                None => {
                    attempt.outcome = AttemptOutcome::ConnectionError;
                    attempt.error = Some(describe(err));
                }
            },
        }
        host_slot.finish(attempt.outcome);
        self.finish(delivery, attempt, started, sink).await
    }

    /// The client and static headers of the policy's transport, or why it cannot be used.
    fn transport(
        &self,
        policy: &Policy,
    ) -> Result<(reqwest::Client, reqwest::header::HeaderMap), String> {
        let transport = policy.transport.as_ref().map_err(Clone::clone)?;
        let client = self
            .clients
            .client(transport)
            .map_err(|_| "the configured CA or client certificate cannot be loaded".to_owned())?;
        Ok((client, transport.headers.clone()))
    }

    /// Why policy forbids this destination before any byte is sent, if it does.
    fn refusal(&self, delivery: &Delivery) -> Option<String> {
        if !delivery.policy.allowlist.allows(&delivery.url) {
            return Some(format!(
                "host `{}` is not in the webhook allowlist",
                delivery.host
            ));
        }
        self.guard
            .check_url(&delivery.url)
            .err()
            .map(|e| e.to_string())
    }

    async fn finish(
        &self,
        delivery: &Delivery,
        mut attempt: DeliveryAttempt,
        started: Instant,
        sink: &impl AttemptSink,
    ) -> Result<DeliveryAttempt> {
        attempt.duration_ms = Some(started.elapsed().as_millis() as u64);
        self.metrics
            .attempts
            .get_or_create(&OutcomeLabels {
                outcome: attempt.outcome.as_str(),
            })
            .inc();
        tracing::info!(
            event_id = delivery.event.id(),
            task_id = delivery.event.task_id(),
            host = %delivery.host,
            attempt = attempt.number,
            outcome = %attempt.outcome,
            http_status = attempt.http_status,
            duration_ms = attempt.duration_ms,
            error = attempt.error.as_deref(),
            "webhook attempt finished"
        );
        sink.finished(delivery, &attempt)
            .await
            .map_err(Error::Sink)?;
        Ok(attempt)
    }
}

/// Reads a bounded part of the response so the pooled connection can be reused.
async fn drain(mut response: reqwest::Response) -> reqwest::Result<()> {
    let mut read = 0;
    while let Some(chunk) = response.chunk().await? {
        read += chunk.len();
        if read > MAX_RESPONSE_BYTES {
            break;
        }
    }
    Ok(())
}

/// `Retry-After` in seconds: delta-seconds or an HTTP date.
fn retry_after_seconds(headers: &reqwest::header::HeaderMap, now: jiff::Timestamp) -> Option<u64> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds);
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    Some(at.duration_since(now).as_secs().max(0) as u64)
}

/// The host the SSRF guard refused, when that is why the request failed.
fn refused_destination(err: &reqwest::Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        if let Some(Error::DestinationRefused(host)) = current.downcast_ref::<Error>() {
            return Some(host.clone());
        }
        source = current.source();
    }
    None
}

/// A connection error's causes, without the URL (it may carry credentials).
fn describe(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_must_be_http_urls_with_a_host() {
        assert!(parse_destination("https://partner.io/hook").is_ok());
        for bad in [
            "ftp://partner.io/",
            "not a url",
            "file:///etc/passwd",
            "https://",
        ] {
            assert!(
                matches!(parse_destination(bad), Err(Error::InvalidUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now: jiff::Timestamp = "2026-03-01T12:00:00Z".parse().unwrap();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("retry-after", "120".parse().unwrap());
        assert_eq!(retry_after_seconds(&headers, now), Some(120));
        headers.insert(
            "retry-after",
            "Sun, 01 Mar 2026 12:00:30 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after_seconds(&headers, now), Some(30));
        headers.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after_seconds(&headers, now), None);
    }

    #[test]
    fn the_rate_limited_host_ignores_case_and_trailing_dot() {
        let delivery = Delivery::new(
            Event::failed("t", "e"),
            "https://API.Partner.io./x",
            Policy::default(),
        )
        .unwrap();
        assert_eq!(delivery.host(), "api.partner.io");
        assert_eq!(delivery.destination(), "api.partner.io:443");
    }
}
