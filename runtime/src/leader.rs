//! Leader election on a `Lease` (through `kube-lease-manager`), so one replica of several works.

use kube::Client;
use kube_lease_manager::{LeaseManager, LeaseManagerBuilder, LeaseManagerError};
use tokio::{sync::watch, task::JoinHandle};

/// Why an election failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Lease could not be read, created or renewed.
    #[error("{0}")]
    Lease(#[source] LeaseManagerError),

    /// The election ended before this replica could lead.
    #[error("the election ended")]
    Ended,
}

/// Seconds before the Lease expires at which the leader renews it: a third of the duration
/// (at least 1 s), so the renewal has the same share of the duration whatever its length.
pub fn grace_seconds(duration_seconds: u64) -> u64 {
    (duration_seconds / 3).max(1)
}

/// A running election: whether this replica leads, until it is released.
pub struct Election {
    leading: watch::Receiver<bool>,
    task: JoinHandle<Result<LeaseManager, LeaseManagerError>>,
}

impl Election {
    /// Joins the election on Lease `name` in `namespace` as `identity`; the Lease is written by
    /// the field manager `<field_manager_prefix>-<identity>`.
    pub async fn join(
        client: Client,
        name: &str,
        namespace: &str,
        identity: &str,
        duration_seconds: u64,
        field_manager_prefix: &str,
    ) -> Result<Self, Error> {
        let manager = LeaseManagerBuilder::new(client, name)
            .with_namespace(namespace)
            .with_identity(identity)
            .with_duration(duration_seconds)
            .with_grace(grace_seconds(duration_seconds))
            .with_field_manager(format!("{field_manager_prefix}-{identity}"))
            .build()
            .await
            .map_err(Error::Lease)?;
        let (leading, task) = manager.watch().await;
        Ok(Election { leading, task })
    }

    /// Waits until this replica leads.
    pub async fn acquired(&mut self) -> Result<(), Error> {
        self.leading
            .wait_for(|leading| *leading)
            .await
            .map(|_| ())
            .map_err(|_| Error::Ended)
    }

    /// A future that completes when this replica stops leading.
    pub fn lost(&self) -> impl std::future::Future<Output = ()> + Send + Sync + 'static {
        let mut leading = self.leading.clone();
        async move {
            let _ = leading.wait_for(|leading| !*leading).await;
        }
    }

    /// Whether this replica leads right now.
    pub fn is_leading(&self) -> bool {
        *self.leading.borrow()
    }

    /// Gives the Lease up (if held) and ends the election.
    pub async fn release(self) -> Result<(), Error> {
        drop(self.leading);
        match self.task.await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(Error::Lease(e)),
            Err(_) => Err(Error::Ended),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_leader_renews_a_third_of_the_duration_before_expiry() {
        assert_eq!(grace_seconds(15), 5);
        assert_eq!(grace_seconds(30), 10);
        assert_eq!(grace_seconds(60), 20);
    }

    #[test]
    fn a_short_lease_still_renews_a_second_before_expiry() {
        assert_eq!(grace_seconds(2), 1);
        assert_eq!(grace_seconds(4), 1);
        for duration in 2..100 {
            assert!(grace_seconds(duration) < duration, "duration {duration}");
        }
    }
}
