//! Running the analysis engine off the async runtime, under a concurrency limit and a timeout,
//! and summarising its result without any raw PII.

use std::{sync::Arc, time::Duration};

use guardrails_analysis::{Analysis, Analyzer, Options};
use guardrails_crds::{
    AnalysisTaskSpec, Framework, RiskLevel,
    summary::{ComplianceSummary, EntitySummary, PiiSummary, ResultSummary, RiskSummary},
};
use tokio::sync::Semaphore;

use crate::failure::TaskFailure;

/// Most recommendations kept in the status summary (the CRD's limit).
const MAX_STATUS_RECOMMENDATIONS: usize = 20;

/// The analysis engine with its limits: shared by every reconcile.
pub struct Engine {
    analyzer: Arc<Analyzer>,
    permits: Arc<Semaphore>,
    timeout: Duration,
    max_text_bytes: usize,
}

impl Engine {
    /// An engine running at most `workers` analyses at once, each for at most `timeout`.
    pub fn new(workers: usize, timeout: Duration, max_text_bytes: usize) -> Self {
        Engine {
            analyzer: Arc::new(Analyzer::new()),
            permits: Arc::new(Semaphore::new(workers.max(1))),
            timeout,
            max_text_bytes,
        }
    }

    /// Refuses a text larger than the operator's limit.
    pub fn check_size(&self, text: &str) -> Result<(), TaskFailure> {
        if text.len() > self.max_text_bytes {
            return Err(TaskFailure::TextTooLarge {
                bytes: text.len(),
                limit: self.max_text_bytes,
            });
        }
        Ok(())
    }

    /// Analyses `text` as `spec` asks, on a blocking thread, within the timeout.
    pub async fn analyze(
        &self,
        text: String,
        spec: &AnalysisTaskSpec,
    ) -> Result<Analysis, TaskFailure> {
        self.check_size(&text)?;
        let options = options(spec)?;
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let analyzer = self.analyzer.clone();
        // NB: the permit moves into the thread, so a timed-out analysis still holds its slot
        // until it really ends and the CPU is never oversubscribed.
        let work = tokio::task::spawn_blocking(move || {
            let result = analyzer.analyze(&text, &options);
            drop(permit);
            result
        });
        match tokio::time::timeout(self.timeout, work).await {
            Err(_) => Err(TaskFailure::AnalysisTimeout(self.timeout)),
            Ok(Err(join)) => Err(TaskFailure::AnalysisError(format!(
                "the analysis thread ended: {join}"
            ))),
            Ok(Ok(result)) => result.map_err(|e| TaskFailure::AnalysisError(e.to_string())),
        }
    }
}

/// The engine's options for a task's spec.
pub fn options(spec: &AnalysisTaskSpec) -> Result<Options, TaskFailure> {
    let frameworks = spec
        .frameworks
        .iter()
        .map(|f| {
            f.as_str()
                .parse::<guardrails_analysis::Framework>()
                .map_err(|_| TaskFailure::UnknownFramework(f.as_str().to_owned()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Options {
        frameworks,
        include_redaction: spec.include_redaction,
        ..Options::default()
    })
}

/// The PII-free summary of an analysis for the task's status: types, positions, scores; no values.
pub fn summarize(analysis: &Analysis) -> ResultSummary {
    let pii = PiiSummary::from_entities(analysis.pii.entities.iter().map(|e| EntitySummary {
        entity_type: e.entity_type.as_str().to_owned(),
        start: e.position.start as i64,
        end: e.position.end as i64,
        confidence: e.confidence,
    }));
    let compliance = ComplianceSummary {
        compliant: analysis.compliance.compliant,
        violations: analysis.compliance.violations as i64,
        frameworks: analysis
            .compliance
            .frameworks
            .iter()
            .filter_map(|f| crd_framework(f.as_str()))
            .collect(),
    };
    let risk = RiskSummary {
        overall_score: analysis.risk.overall_score,
        overall_level: risk_level(&analysis.risk.overall_level),
        recommendations: analysis
            .risk
            .recommendations
            .iter()
            .take(MAX_STATUS_RECOMMENDATIONS)
            .cloned()
            .collect(),
    };
    ResultSummary {
        pii,
        compliance,
        risk,
    }
}

fn crd_framework(name: &str) -> Option<Framework> {
    [
        Framework::Hipaa,
        Framework::Gdpr,
        Framework::PciDss,
        Framework::Ccpa,
    ]
    .into_iter()
    .find(|f| f.as_str() == name)
}

fn risk_level(level: &guardrails_analysis::RiskLevel) -> RiskLevel {
    use guardrails_analysis::RiskLevel as Engine;
    match level {
        Engine::Low => RiskLevel::Low,
        Engine::Medium => RiskLevel::Medium,
        Engine::High => RiskLevel::High,
        Engine::Critical => RiskLevel::Critical,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(frameworks: Vec<Framework>, include_redaction: bool) -> AnalysisTaskSpec {
        AnalysisTaskSpec {
            text: Some(String::new()),
            frameworks,
            include_redaction,
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn an_email_is_summarised_without_its_value() {
        let engine = Engine::new(1, Duration::from_secs(30), 1024);
        let text = "Write to jane.doe@example.com today".to_owned();
        let analysis = engine
            .analyze(text, &spec(vec![Framework::Gdpr], true))
            .await
            .unwrap();
        let summary = summarize(&analysis);
        assert_eq!(summary.pii.by_type.get("EMAIL_ADDRESS"), Some(&1));
        assert_eq!(summary.pii.entities[0].start, 9);
        assert_eq!(summary.compliance.frameworks, vec![Framework::Gdpr]);
        let json = serde_json::to_string(&summary).unwrap();
        assert!(!json.contains("jane.doe"), "{json}");
        assert!(
            analysis
                .redacted_text
                .is_some_and(|t| !t.contains("jane.doe"))
        );
    }

    #[tokio::test]
    async fn a_text_over_the_limit_fails_before_analysis() {
        let engine = Engine::new(1, Duration::from_secs(30), 8);
        let err = engine
            .analyze("123456789".into(), &spec(vec![], false))
            .await
            .unwrap_err();
        assert_eq!(err, TaskFailure::TextTooLarge { bytes: 9, limit: 8 });
    }

    #[tokio::test]
    async fn an_analysis_over_the_timeout_fails_and_keeps_its_slot_until_it_ends() {
        // Several MiB of PII-dense text take tens of milliseconds; the timeout is a microsecond.
        let text = "Call Jane Doe at 212-555-0199, card 4111 1111 1111 1111.\n".repeat(60_000);
        let engine = Engine::new(1, Duration::from_micros(1), text.len());
        let err = engine
            .analyze(text, &spec(vec![Framework::Hipaa], true))
            .await
            .unwrap_err();
        assert_eq!(err, TaskFailure::AnalysisTimeout(Duration::from_micros(1)));
        assert_eq!(err.reason(), "AnalysisTimeout");
        // The timed-out analysis still runs on its thread and holds the only permit.
        assert_eq!(engine.permits.available_permits(), 0);
        let freed = tokio::time::timeout(Duration::from_secs(60), engine.permits.acquire()).await;
        assert!(
            freed.is_ok(),
            "the permit comes back once the analysis ends"
        );
    }

    #[test]
    fn every_crd_framework_is_known_to_the_engine() {
        let all = vec![
            Framework::Hipaa,
            Framework::Gdpr,
            Framework::PciDss,
            Framework::Ccpa,
        ];
        assert_eq!(options(&spec(all, false)).unwrap().frameworks.len(), 4);
    }

    #[test]
    fn risk_levels_map_by_name() {
        assert_eq!(
            risk_level(&guardrails_analysis::RiskLevel::Medium),
            RiskLevel::Medium
        );
        assert_eq!(
            risk_level(&guardrails_analysis::RiskLevel::Critical),
            RiskLevel::Critical
        );
    }
}
