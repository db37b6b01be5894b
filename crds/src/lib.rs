//! Custom resource types of Guardrails.
