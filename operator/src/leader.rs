//! Leader election on a `Lease` (through `kube-lease-manager`), so only one of several replicas
//! reconciles at a time.

use kube::Client;
use kube_lease_manager::{LeaseManagerBuilder, LeaseManagerError};
use tokio::{sync::watch, task::JoinHandle};

use crate::{Error, Result};

/// Seconds before the Lease expires at which the leader renews it.
const RENEW_BEFORE_SECONDS: u64 = 5;

/// A running election: whether this replica leads, until it is released.
pub struct Election {
    leading: watch::Receiver<bool>,
    task: JoinHandle<Result<kube_lease_manager::LeaseManager, LeaseManagerError>>,
}

impl Election {
    /// Joins the election on Lease `name` in `namespace` as `identity`.
    pub async fn join(
        client: Client,
        name: &str,
        namespace: &str,
        identity: &str,
        duration_seconds: u64,
    ) -> Result<Self> {
        let grace = RENEW_BEFORE_SECONDS.min(duration_seconds / 2).max(1);
        let manager = LeaseManagerBuilder::new(client, name)
            .with_namespace(namespace)
            .with_identity(identity)
            .with_duration(duration_seconds)
            .with_grace(grace)
            .with_field_manager(format!("guardrails-operator-{identity}"))
            .build()
            .await
            .map_err(Error::LeaseError)?;
        let (leading, task) = manager.watch().await;
        Ok(Election { leading, task })
    }

    /// Waits until this replica leads.
    pub async fn acquired(&mut self) -> Result<()> {
        self.leading
            .wait_for(|leading| *leading)
            .await
            .map(|_| ())
            .map_err(|_| Error::LeadershipLost)
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
    pub async fn release(self) -> Result<()> {
        drop(self.leading);
        match self.task.await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(Error::LeaseError(e)),
            Err(_) => Err(Error::LeadershipLost),
        }
    }
}
