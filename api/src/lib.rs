//! The Guardrails REST API: submits `AnalysisTask`s, serves their status, and a standalone mode.
//!
//! Not yet implemented: this crate will hold the axum router, authentication and the
//! standalone in-memory task store.
