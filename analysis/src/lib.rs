//! PII detection, compliance, risk scoring and redaction: the pure analysis engine (no I/O).
//!
//! Not yet implemented: this crate will hold the recognizers, the compliance rules, the risk
//! formula, redaction, and the `guardrails-analyze` CLI.
