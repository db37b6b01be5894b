//! The analysis worker pool: analyses run on blocking threads, at most `size` at once, so the
//! async runtime keeps serving requests while CPU-bound work is done.

use std::sync::Arc;

use guardrails_analysis::{Analysis, Analyzer, Options};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Why an analysis produced no result.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisFailure {
    /// The analysis engine refused the request.
    #[error("the analysis failed: {0}")]
    Engine(String),
    /// The analysis panicked or was cancelled (a bug; the log has it).
    #[error("the analysis stopped unexpectedly")]
    Crashed,
}

/// A pool of analysis workers sharing one compiled [`Analyzer`].
#[derive(Clone)]
pub struct Workers {
    analyzer: Arc<Analyzer>,
    permits: Arc<Semaphore>,
    size: usize,
}

impl Workers {
    /// A pool running at most `size` analyses at once (at least one).
    pub fn new(size: usize) -> Self {
        let size = size.max(1);
        Self {
            analyzer: Arc::new(Analyzer::new()),
            permits: Arc::new(Semaphore::new(size)),
            size,
        }
    }

    /// How many analyses may run at once.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Waits for a free worker and reserves it.
    pub async fn slot(&self) -> Result<Slot, AnalysisFailure> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| AnalysisFailure::Crashed)?;
        Ok(Slot {
            analyzer: self.analyzer.clone(),
            permit,
        })
    }

    /// Analyses `text` on the next free worker; the analysis serialises to the `result` object
    /// of docs/webhooks.md.
    pub async fn analyze(
        &self,
        text: String,
        options: Options,
    ) -> Result<Analysis, AnalysisFailure> {
        self.slot().await?.analyze(text, options).await
    }
}

/// A reserved worker: one analysis runs on it.
pub struct Slot {
    analyzer: Arc<Analyzer>,
    permit: OwnedSemaphorePermit,
}

impl Slot {
    /// Analyses `text` on a blocking thread, then frees the worker.
    pub async fn analyze(
        self,
        text: String,
        options: Options,
    ) -> Result<Analysis, AnalysisFailure> {
        let Slot { analyzer, permit } = self;
        // NB: the permit moves into the thread, so an analysis whose caller went away still
        // holds its worker until it really ends and the CPUs are never oversubscribed.
        tokio::task::spawn_blocking(move || {
            let analysis = analyzer.analyze(&text, &options);
            drop(permit);
            analysis
        })
        .await
        .map_err(|_| AnalysisFailure::Crashed)?
        .map_err(|e| AnalysisFailure::Engine(e.to_string()))
    }
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers").field("size", &self.size).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use guardrails_analysis::Framework;

    #[tokio::test]
    async fn an_analysis_returns_the_contract_result() {
        let workers = Workers::new(2);
        let options = Options {
            frameworks: vec![Framework::PciDss],
            ..Options::default()
        };
        let result = workers
            .analyze("Card 4111 1111 1111 1111 on file.".into(), options)
            .await
            .unwrap();
        let result = serde_json::to_value(result).unwrap();
        assert_eq!(result["status"], "success");
        assert_eq!(result["pii"]["entities"][0]["type"], "CREDIT_CARD");
        assert_eq!(result["compliance"]["frameworks"][0], "PCI_DSS");
    }

    #[tokio::test]
    async fn a_reserved_worker_is_not_given_to_anyone_else() {
        let workers = Workers::new(1);
        let held = workers.slot().await.unwrap();
        let waiting = workers.analyze("SSN 536-22-1234".into(), Options::default());
        tokio::pin!(waiting);
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(50), &mut waiting)
                .await
                .is_err(),
            "an analysis ran while the only worker was reserved"
        );
        drop(held);
        let analysis = waiting.await.unwrap();
        assert_eq!(analysis.pii.entities.len(), 1);
    }
}
