//! Waiting for a condition with a deadline; a timeout says what was awaited, what was last seen,
//! and what the processes involved logged.

use std::{fmt::Debug, future::Future, time::Duration};

use kube::{Api, Resource};
use serde::{Serialize, de::DeserializeOwned};

use crate::{Error, kit::RunningBinary};

/// The answer of one probe.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe<T> {
    /// The condition holds; here is the value.
    Ready(T),
    /// Not yet; here is what was seen (shown if the deadline passes).
    Pending(String),
}

/// Polls `probe` until it is ready or `timeout` passes.
pub async fn wait_for<T, F, Fut>(
    what: &str,
    timeout: Duration,
    processes: &[&RunningBinary],
    mut probe: F,
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Probe<T>>,
{
    let start = tokio::time::Instant::now();
    let mut pause = Duration::from_millis(10);
    loop {
        let last_seen = match probe().await {
            Probe::Ready(value) => return Ok(value),
            Probe::Pending(seen) => seen,
        };
        if start.elapsed() >= timeout {
            return Err(Error::Timeout {
                what: what.to_string(),
                waited_ms: start.elapsed().as_millis(),
                last_seen,
                logs: processes
                    .iter()
                    .map(|p| p.logs_section())
                    .collect::<Vec<_>>()
                    .join("\n"),
            });
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(250));
    }
}

/// Waits until the object `name` exists and satisfies `condition`; returns it.
pub async fn wait_for_object<K>(
    api: &Api<K>,
    name: &str,
    what: &str,
    timeout: Duration,
    processes: &[&RunningBinary],
    condition: impl Fn(&K) -> bool,
) -> Result<K, Error>
where
    K: Resource + Clone + Debug + DeserializeOwned + Serialize,
{
    let description = format!("{what} (object {name:?})");
    wait_for(&description, timeout, processes, || {
        let got = api.get_opt(name);
        let condition = &condition;
        async move {
            match got.await {
                Ok(Some(obj)) if condition(&obj) => Probe::Ready(obj),
                Ok(Some(obj)) => {
                    Probe::Pending(serde_yaml::to_string(&obj).unwrap_or_else(|e| e.to_string()))
                }
                Ok(None) => Probe::Pending("the object does not exist".into()),
                Err(e) => Probe::Pending(format!("the API answered with an error: {e}")),
            }
        }
    })
    .await
}

/// Waits until the object `name` no longer exists.
pub async fn wait_for_deletion<K>(
    api: &Api<K>,
    name: &str,
    timeout: Duration,
    processes: &[&RunningBinary],
) -> Result<(), Error>
where
    K: Resource + Clone + Debug + DeserializeOwned + Serialize,
{
    wait_for(
        &format!("object {name:?} to be deleted"),
        timeout,
        processes,
        || {
            let got = api.get_opt(name);
            async move {
                match got.await {
                    Ok(None) => Probe::Ready(()),
                    Ok(Some(obj)) => Probe::Pending(
                        serde_yaml::to_string(&obj).unwrap_or_else(|e| e.to_string()),
                    ),
                    Err(e) => Probe::Pending(format!("the API answered with an error: {e}")),
                }
            }
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_condition_that_becomes_true_is_returned() {
        let calls = AtomicUsize::new(0);
        let got = wait_for("the third call", Duration::from_secs(10), &[], || {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                if n >= 3 {
                    Probe::Ready(n)
                } else {
                    Probe::Pending(format!("call {n}"))
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(got, 3);
    }

    #[tokio::test]
    async fn a_timeout_names_what_was_awaited_and_what_was_seen() {
        let err = wait_for::<(), _, _>(
            "the phase to be Succeeded",
            Duration::from_millis(50),
            &[],
            || async { Probe::Pending("phase: Running".into()) },
        )
        .await
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("waiting for the phase to be Succeeded"),
            "{text}"
        );
        assert!(text.contains("phase: Running"), "{text}");
    }
}
