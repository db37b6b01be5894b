//! How deliveries reach their receivers: trusted CAs, a client certificate and static headers,
//! and the pool of HTTP clients, one per distinct TLS settings, all behind the SSRF guard.
//!
//! Every client speaks TLS 1.2 or newer and always verifies the receiver's certificate; the
//! public roots are Mozilla's (the `webpki-roots` bundle built into reqwest's rustls set-up).
//! No error of this module carries a certificate, key or header value.

use crate::ssrf::NetworkGuard;
use crate::{Error, Result};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

/// Trust and identity of a TLS connection: extra (or only) CAs and a client certificate.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    ca_bundle: Option<Vec<u8>>,
    replace_public_roots: bool,
    // NB: the certificate chain then the key, both PEM, as reqwest's `Identity` reads them.
    identity: Option<Vec<u8>>,
}

impl TlsSettings {
    /// The same settings also trusting the CAs of the PEM `bundle`, or only them if `replace`.
    pub fn with_ca(mut self, bundle: &[u8], replace: bool) -> Result<Self, &'static str> {
        let certificates = reqwest::Certificate::from_pem_bundle(bundle)
            .map_err(|_| "is not a PEM bundle of certificates")?;
        if certificates.is_empty() {
            return Err("holds no PEM certificate");
        }
        self.ca_bundle = Some(bundle.to_vec());
        self.replace_public_roots = replace;
        Ok(self)
    }

    /// The same settings presenting the PEM certificate chain `cert` with its PEM private `key`.
    pub fn with_client_cert(mut self, cert: &[u8], key: &[u8]) -> Result<Self, &'static str> {
        let mut identity = cert.to_vec();
        identity.push(b'\n');
        identity.extend_from_slice(key);
        reqwest::Identity::from_pem(&identity)
            .map_err(|_| "is not a PEM certificate chain with a PEM private key")?;
        self.identity = Some(identity);
        // NB: rustls checks that the key matches the certificate when a client is built.
        self.apply(reqwest::Client::builder())
            .and_then(|builder| builder.build().map_err(Error::HttpClient))
            .map_err(|_| "holds a private key that does not match its certificate")?;
        Ok(self)
    }

    /// Whether these are the defaults: public roots only, no client certificate.
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// A digest of the settings, the key of their client in the pool.
    fn fingerprint(&self) -> [u8; 32] {
        let mut hash = Sha256::new();
        for part in [&self.ca_bundle, &self.identity] {
            let bytes = part.as_deref().unwrap_or_default();
            hash.update((bytes.len() as u64).to_be_bytes());
            hash.update(bytes);
        }
        hash.update([u8::from(self.replace_public_roots)]);
        hash.finalize().into()
    }

    /// `builder` trusting and presenting what these settings say.
    fn apply(&self, mut builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder> {
        builder = builder
            .use_rustls_tls()
            .min_tls_version(reqwest::tls::Version::TLS_1_2)
            .tls_built_in_root_certs(!self.replace_public_roots);
        if let Some(bundle) = &self.ca_bundle {
            for certificate in
                reqwest::Certificate::from_pem_bundle(bundle).map_err(Error::HttpClient)?
            {
                builder = builder.add_root_certificate(certificate);
            }
        }
        if let Some(identity) = &self.identity {
            builder =
                builder.identity(reqwest::Identity::from_pem(identity).map_err(Error::HttpClient)?);
        }
        Ok(builder)
    }
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSettings")
            .field("custom_ca", &self.ca_bundle.is_some())
            .field("replace_public_roots", &self.replace_public_roots)
            .field("client_cert", &self.identity.is_some())
            .finish()
    }
}

/// How one delivery is sent: its TLS settings, static headers, and whose settings they are.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Transport {
    /// Who declared these settings (e.g. `namespace/endpoint`); a new declaration by the same
    /// owner drops the client of the old one.
    pub owner: String,
    /// Trust and client certificate.
    pub tls: TlsSettings,
    /// Headers sent with every request; their values are marked sensitive.
    pub headers: HeaderMap,
}

/// Headers a static header may not set: they would change what the receiver verifies or how
/// the request is framed.
const FORBIDDEN_HEADERS: &[&str] = &[
    "host",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
];

/// Header name prefixes a static header may not use.
const FORBIDDEN_PREFIXES: &[&str] = &["content-", "webhook-", "x-guardrails-", "proxy-"];

/// Parses static request headers from `(name, value)` pairs; the error names the header, never
/// its value.
pub fn static_headers<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("`{name}` is not a header name"))?;
        let lower = header.as_str();
        if FORBIDDEN_HEADERS.contains(&lower)
            || FORBIDDEN_PREFIXES.iter().any(|p| lower.starts_with(p))
        {
            return Err(format!(
                "header `{name}` is refused: Host, Content-*, Transfer-Encoding, hop-by-hop, \
                 webhook-* and X-Guardrails-* headers are set by the agent"
            ));
        }
        let mut value = HeaderValue::from_bytes(value.trim_ascii())
            .map_err(|_| format!("the value of header `{name}` is not a valid header value"))?;
        value.set_sensitive(true);
        headers.append(header, value);
    }
    Ok(headers)
}

/// HTTP clients by TLS settings: the default client, plus one per distinct custom settings in
/// use, each resolving names through the SSRF guard and never following redirects.
pub struct ClientPool {
    guard: NetworkGuard,
    default: reqwest::Client,
    custom: Mutex<CustomClients>,
}

#[derive(Default)]
struct CustomClients {
    clients: HashMap<[u8; 32], reqwest::Client>,
    owners: HashMap<String, [u8; 32]>,
}

impl ClientPool {
    /// A pool whose clients connect only where `guard` permits.
    pub fn new(guard: NetworkGuard) -> Result<Self> {
        let default = build_client(&guard, &TlsSettings::default())?;
        Ok(Self {
            guard,
            default,
            custom: Mutex::default(),
        })
    }

    /// The client for `transport`, built on first use; settings no owner uses any more are
    /// dropped with their connections.
    pub fn client(&self, transport: &Transport) -> Result<reqwest::Client> {
        if transport.tls.is_default() {
            return Ok(self.default.clone());
        }
        let key = transport.tls.fingerprint();
        let mut custom = self.custom.lock().expect("poisoned");
        if let Some(old) = custom.owners.insert(transport.owner.clone(), key)
            && old != key
            && !custom.owners.values().any(|k| *k == old)
        {
            custom.clients.remove(&old);
        }
        if let Some(client) = custom.clients.get(&key) {
            return Ok(client.clone());
        }
        let client = build_client(&self.guard, &transport.tls)?;
        custom.clients.insert(key, client.clone());
        Ok(client)
    }

    /// How many custom clients the pool holds.
    pub fn custom_clients(&self) -> usize {
        self.custom.lock().expect("poisoned").clients.len()
    }
}

/// A client with `tls`, names resolved through `guard`, no redirects and no proxy.
fn build_client(guard: &NetworkGuard, tls: &TlsSettings) -> Result<reqwest::Client> {
    let builder = reqwest::Client::builder()
        .dns_resolver(guard.resolver())
        .redirect(reqwest::redirect::Policy::none())
        // NB: a proxy would resolve names itself, behind the guard's back.
        .no_proxy()
        .pool_max_idle_per_host(64);
    tls.apply(builder)?.build().map_err(Error::HttpClient)
}
