//! The per-destination rate limit: a fixed one-minute window counted in Redis.

use crate::{Error, Result};
use jiff::{SignedDuration, Timestamp, tz::TimeZone};
use prometheus_client::metrics::counter::Counter;
use redis::aio::MultiplexedConnection;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a Redis round trip may take before the limiter fails open.
const REDIS_TIMEOUT: Duration = Duration::from_millis(500);
/// How often, at most, a Redis failure is logged.
const WARN_EVERY: Duration = Duration::from_secs(60);
/// Lifetime of a window's counter key, in seconds.
const KEY_TTL_SECONDS: i64 = 60;

/// What the limiter says about one delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateDecision {
    /// Within the limit: send now.
    Allowed,
    /// Over the limit: wait for the next window, which starts at `until`.
    Deferred {
        /// Start of the next window.
        until: Timestamp,
    },
    /// Redis could not be asked: send anyway (fail open).
    FailedOpen,
}

/// A fixed-window limiter per destination host, shared by every agent through Redis.
pub struct RateLimiter {
    client: redis::Client,
    connection: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    fail_open: Counter,
    last_warning: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// A limiter on the Redis at `redis_url`; it connects on first use.
    pub fn new(redis_url: &str) -> Result<Self> {
        Ok(Self {
            client: redis::Client::open(redis_url).map_err(Error::RedisUrl)?,
            connection: tokio::sync::Mutex::new(None),
            fail_open: Counter::default(),
            last_warning: Mutex::new(None),
        })
    }

    /// Counts one delivery to `host` in the window of `now` and says whether it may go.
    pub async fn check(&self, host: &str, limit_per_minute: u32, now: Timestamp) -> RateDecision {
        if limit_per_minute == 0 {
            return RateDecision::Allowed;
        }
        match tokio::time::timeout(REDIS_TIMEOUT, self.increment(&window_key(host, now))).await {
            Ok(Ok(count)) if count <= u64::from(limit_per_minute) => RateDecision::Allowed,
            Ok(Ok(_)) => RateDecision::Deferred {
                until: next_window(now),
            },
            Ok(Err(err)) => self.fail_open(&err.to_string()).await,
            Err(_) => self.fail_open("no answer in time").await,
        }
    }

    /// How many times Redis was unreachable and deliveries went out unlimited.
    pub fn fail_open_total(&self) -> u64 {
        self.fail_open.get()
    }

    /// The counter behind [`RateLimiter::fail_open_total`], for a Prometheus registry.
    pub fn fail_open_counter(&self) -> &Counter {
        &self.fail_open
    }

    async fn increment(&self, key: &str) -> redis::RedisResult<u64> {
        let mut slot = self.connection.lock().await;
        let mut connection = match slot.as_ref() {
            Some(connection) => connection.clone(),
            None => {
                let connection = self.client.get_multiplexed_async_connection().await?;
                *slot = Some(connection.clone());
                connection
            }
        };
        drop(slot);
        // INCR and EXPIRE in one MULTI/EXEC round trip.
        let (count,): (u64,) = redis::pipe()
            .atomic()
            .incr(key, 1)
            .expire(key, KEY_TTL_SECONDS)
            .ignore()
            .query_async(&mut connection)
            .await?;
        Ok(count)
    }

    async fn fail_open(&self, reason: &str) -> RateDecision {
        self.fail_open.inc();
        // A broken connection is rebuilt on the next check.
        *self.connection.lock().await = None;
        let mut last = self.last_warning.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
            *last = Some(Instant::now());
            tracing::warn!(
                reason,
                total = self.fail_open.get(),
                "rate limiter cannot reach Redis; sending without a limit"
            );
        }
        RateDecision::FailedOpen
    }
}

/// The Redis key of `host`'s window at `now`: `webhook_rate:{host}:{YYYYMMDDHHMM}` in UTC.
pub fn window_key(host: &str, now: Timestamp) -> String {
    format!(
        "webhook_rate:{host}:{}",
        now.to_zoned(TimeZone::UTC).strftime("%Y%m%d%H%M")
    )
}

/// The start of the minute after `now`.
pub fn next_window(now: Timestamp) -> Timestamp {
    let seconds = now.as_second().div_euclid(60) * 60 + 60;
    Timestamp::from_second(seconds).unwrap_or(
        now.saturating_add(SignedDuration::from_secs(60))
            .unwrap_or(now),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_keys_name_the_host_and_the_utc_minute() {
        let now: Timestamp = "2026-03-01T23:59:59.9+02:00".parse().unwrap();
        assert_eq!(
            window_key("api.partner.io", now),
            "webhook_rate:api.partner.io:202603012159"
        );
    }

    #[test]
    fn the_next_window_starts_on_the_next_minute() {
        let now: Timestamp = "2026-03-01T12:34:56.7Z".parse().unwrap();
        assert_eq!(next_window(now), "2026-03-01T12:35:00Z".parse().unwrap());
        let on_the_minute: Timestamp = "2026-03-01T12:34:00Z".parse().unwrap();
        assert_eq!(
            next_window(on_the_minute),
            "2026-03-01T12:35:00Z".parse().unwrap()
        );
    }
}
