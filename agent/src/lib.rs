//! Webhook delivery for Guardrails: the delivery engine (library) and the sidecar agent.
//!
//! Not yet implemented: this crate will hold event building, signing, the delivery policy
//! (allowlist, SSRF guard, rate limit, retries) and the sidecar that records attempts in status.
