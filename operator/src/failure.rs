//! Why a task failed: each failure has a condition reason and a message a user can act on,
//! without the task's text or any value found in it.

use std::{fmt, time::Duration};

/// A reason the analysis of a task could not be done; the task ends `Failed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskFailure {
    /// The Secret named by spec.textFrom does not exist (after the grace period).
    TextSecretNotFound {
        /// Name of the Secret.
        name: String,
    },
    /// The Secret exists but has no such key (after the grace period).
    TextKeyNotFound {
        /// Name of the Secret.
        name: String,
        /// The missing key.
        key: String,
    },
    /// The Secret's value is not UTF-8 text.
    TextNotUtf8 {
        /// Name of the Secret.
        name: String,
        /// The key holding the value.
        key: String,
    },
    /// The text is larger than the operator's `--max-text-bytes`.
    TextTooLarge {
        /// Size of the text in bytes.
        bytes: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// A framework the analysis engine does not know.
    UnknownFramework(String),
    /// The analysis did not finish within `--analysis-timeout`.
    AnalysisTimeout(Duration),
    /// The analysis engine refused the text or options.
    AnalysisError(String),
    /// A Secret with the result Secret's name exists and belongs to something else.
    ResultSecretConflict {
        /// Name of the Secret.
        name: String,
    },
}

impl TaskFailure {
    /// The `reason` of the `Analyzed` condition and of the Failed Event (PascalCase).
    pub fn reason(&self) -> &'static str {
        match self {
            TaskFailure::TextSecretNotFound { .. } => "TextSecretNotFound",
            TaskFailure::TextKeyNotFound { .. } => "TextKeyNotFound",
            TaskFailure::TextNotUtf8 { .. } => "TextNotUtf8",
            TaskFailure::TextTooLarge { .. } => "TextTooLarge",
            TaskFailure::UnknownFramework(_) => "UnknownFramework",
            TaskFailure::AnalysisTimeout(_) => "AnalysisTimeout",
            TaskFailure::AnalysisError(_) => "AnalysisError",
            TaskFailure::ResultSecretConflict { .. } => "ResultSecretConflict",
        }
    }

    /// Whether the failure may go away by itself (a Secret not created yet), so it is retried
    /// during the grace period.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            TaskFailure::TextSecretNotFound { .. } | TaskFailure::TextKeyNotFound { .. }
        )
    }
}

impl fmt::Display for TaskFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskFailure::TextSecretNotFound { name } => write!(
                f,
                "Secret `{name}` named by spec.textFrom.secretKeyRef was not found in the task's namespace; create it and then a new AnalysisTask"
            ),
            TaskFailure::TextKeyNotFound { name, key } => write!(
                f,
                "Secret `{name}` has no key `{key}` named by spec.textFrom.secretKeyRef.key"
            ),
            TaskFailure::TextNotUtf8 { name, key } => {
                write!(f, "key `{key}` of Secret `{name}` is not UTF-8 text")
            }
            TaskFailure::TextTooLarge { bytes, limit } => write!(
                f,
                "the text is {bytes} bytes, more than this operator's limit of {limit} bytes (--max-text-bytes); split it into several tasks"
            ),
            TaskFailure::UnknownFramework(name) => write!(
                f,
                "unknown compliance framework `{name}` (expected HIPAA, GDPR, PCI_DSS or CCPA)"
            ),
            TaskFailure::AnalysisTimeout(limit) => write!(
                f,
                "the analysis did not finish within {}s (--analysis-timeout); split the text into smaller tasks",
                limit.as_secs_f64()
            ),
            TaskFailure::AnalysisError(message) => write!(f, "the analysis failed: {message}"),
            TaskFailure::ResultSecretConflict { name } => write!(
                f,
                "Secret `{name}` already exists and is not owned by this task; delete or rename it"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_key_names_the_secret_and_the_key() {
        let failure = TaskFailure::TextKeyNotFound {
            name: "input".into(),
            key: "text".into(),
        };
        assert_eq!(failure.reason(), "TextKeyNotFound");
        assert!(failure.is_transient());
        let message = failure.to_string();
        assert!(
            message.contains("`input`") && message.contains("`text`"),
            "{message}"
        );
    }

    #[test]
    fn a_too_large_text_says_the_size_the_limit_and_the_flag() {
        let message = TaskFailure::TextTooLarge {
            bytes: 2_000_000,
            limit: 1_048_576,
        }
        .to_string();
        assert!(message.contains("2000000 bytes"), "{message}");
        assert!(message.contains("1048576"), "{message}");
        assert!(message.contains("--max-text-bytes"), "{message}");
    }

    #[test]
    fn a_timeout_is_final() {
        let failure = TaskFailure::AnalysisTimeout(Duration::from_millis(1500));
        assert!(!failure.is_transient());
        assert!(failure.to_string().contains("1.5s"), "{failure}");
    }
}
