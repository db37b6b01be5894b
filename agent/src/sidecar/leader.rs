//! Leader election on the agent's own Lease, so that one replica delivers at a time.

use crate::{Error, Result};
use kube::Client;
use kube_lease_manager::LeaseManagerBuilder;
use tokio::sync::watch;

/// A running election on a Lease.
pub struct Election {
    leading: watch::Receiver<bool>,
    task: tokio::task::JoinHandle<
        Result<kube_lease_manager::LeaseManager, kube_lease_manager::LeaseManagerError>,
    >,
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
        let manager = LeaseManagerBuilder::new(client, name)
            .with_namespace(namespace)
            .with_identity(identity)
            .with_duration(duration_seconds)
            .with_grace((duration_seconds / 3).max(1))
            .with_field_manager(format!("guardrails-agent-{identity}"))
            .build()
            .await
            .map_err(|e| Error::Lease(e.to_string()))?;
        let (leading, task) = manager.watch().await;
        Ok(Self { leading, task })
    }

    /// Waits until this replica leads.
    pub async fn acquired(&mut self) -> Result<()> {
        self.leading
            .wait_for(|leading| *leading)
            .await
            .map(|_| ())
            .map_err(|_| Error::Lease("the election ended".into()))
    }

    /// Completes when this replica stops leading.
    pub fn lost(&self) -> impl std::future::Future<Output = ()> + Send + Sync + 'static {
        let mut leading = self.leading.clone();
        async move {
            let _ = leading.wait_for(|leading| !*leading).await;
        }
    }

    /// Gives the Lease back and ends the election.
    pub async fn release(self) -> Result<()> {
        drop(self.leading);
        match self.task.await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(Error::Lease(e.to_string())),
            Err(e) => Err(Error::Lease(e.to_string())),
        }
    }
}
