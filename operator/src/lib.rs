//! The Guardrails operator: reconciles `AnalysisTask` resources into analysis results.
//!
//! Not yet implemented: this crate will hold the controller, its metrics and its binary.
