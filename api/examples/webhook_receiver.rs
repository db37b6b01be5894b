//! A webhook receiver for trying Guardrails out: it checks both signature schemes of each
//! delivery with `guardrails_agent::Verifier` and prints what it got.
//!
//! ```text
//! WEBHOOK_SIGNING_SECRET=change-me cargo run -p guardrails-api --example webhook_receiver
//! ```
//! Listens on `127.0.0.1:9000` (or the address given as the first argument) and answers `200`
//! to verified (or, without a secret, unsigned) deliveries and `401` to bad signatures.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use guardrails_agent::signing::{SIGNATURE_HEADER, WEBHOOK_SIGNATURE};
use guardrails_agent::{SigningSecret, Verifier};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9000".into())
        .parse()?;
    let verifier = match std::env::var("WEBHOOK_SIGNING_SECRET") {
        Ok(secret) if !secret.is_empty() => Some(Verifier::new(vec![SigningSecret::new(secret)?])),
        _ => {
            println!("WEBHOOK_SIGNING_SECRET is not set: signatures are not checked");
            None
        }
    };
    let app = Router::new()
        .route("/{*path}", post(receive))
        .route("/", post(receive))
        .with_state(Arc::new(verifier));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("waiting for webhooks on http://{addr}/");
    axum::serve(listener, app).await?;
    Ok(())
}

async fn receive(
    State(verifier): State<Arc<Option<Verifier>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let now = jiff::Timestamp::now();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned()
    };
    println!(
        "\nreceived {} (delivery id {})",
        header("x-guardrails-event"),
        header("x-guardrails-delivery")
    );
    let mut verified = true;
    if let Some(verifier) = verifier.as_ref() {
        // Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature.
        let standard = if headers.contains_key(WEBHOOK_SIGNATURE) {
            verifier
                .verify(&headers, &body, now)
                .map_err(|e| e.to_string())
        } else {
            Err("no webhook-signature header".into())
        };
        // X-Guardrails-Signature: the verifier reads it when the Standard Webhooks headers are absent.
        let mut guardrails_only = headers.clone();
        guardrails_only.remove(WEBHOOK_SIGNATURE);
        let guardrails = if headers.contains_key(SIGNATURE_HEADER) {
            verifier
                .verify(&guardrails_only, &body, now)
                .map_err(|e| e.to_string())
        } else {
            Err("no X-Guardrails-Signature header".into())
        };
        for (scheme, outcome) in [
            ("Standard Webhooks signature", &standard),
            ("X-Guardrails-Signature", &guardrails),
        ] {
            match outcome {
                Ok(()) => println!("  {scheme}: verified"),
                Err(reason) => println!("  {scheme}: NOT verified ({reason})"),
            }
        }
        verified = standard.is_ok() && guardrails.is_ok();
    } else if headers.contains_key(SIGNATURE_HEADER) {
        println!("  signed, but no secret to check it with");
    } else {
        println!("  unsigned");
    }
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(payload) => println!(
            "{}",
            serde_json::to_string_pretty(&payload).unwrap_or_default()
        ),
        Err(_) => println!("  (the body is not JSON)"),
    }
    if verified {
        StatusCode::OK
    } else {
        StatusCode::UNAUTHORIZED
    }
}
