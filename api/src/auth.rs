//! API keys: loaded from a file (a mounted Secret, one key per line) and/or the environment,
//! checked in constant time against `Authorization: Bearer <key>`.
//!
//! Several keys may be valid at once, so a key can be rotated without downtime. The file is
//! re-read when it changes (Kubernetes updates mounted Secrets in place).

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::problem::{ApiError, Code};
use crate::{Error, Result};

/// How often, at most, the keys file is checked for changes.
const RELOAD_EVERY: Duration = Duration::from_secs(5);

/// The valid API keys, kept as SHA-256 digests.
#[derive(Debug)]
pub struct ApiKeys {
    file: Option<PathBuf>,
    inline: Vec<[u8; 32]>,
    state: RwLock<Loaded>,
}

#[derive(Debug)]
struct Loaded {
    from_file: Vec<[u8; 32]>,
    modified: Option<SystemTime>,
    checked: Instant,
}

impl ApiKeys {
    /// Keys from `file` (one per line; blank lines and `#` comments skipped) and `inline` keys.
    pub fn load(file: Option<&Path>, inline: &[String]) -> Result<Self> {
        let inline: Vec<[u8; 32]> = inline
            .iter()
            .map(|k| k.trim())
            .filter(|k| !k.is_empty())
            .map(digest)
            .collect();
        let (from_file, modified) = match file {
            Some(path) => read_keys(path)?,
            None => (Vec::new(), None),
        };
        if inline.is_empty() && from_file.is_empty() {
            return Err(Error::Config(
                "no API key configured: set --api-keys-file or API_KEYS, or run with --auth none \
                 for local use"
                    .into(),
            ));
        }
        Ok(Self {
            file: file.map(Path::to_path_buf),
            inline,
            state: RwLock::new(Loaded {
                from_file,
                modified,
                checked: Instant::now(),
            }),
        })
    }

    /// Whether `key` is one of the valid keys (constant time in the key's content).
    pub fn accepts(&self, key: &str) -> bool {
        self.reload_if_changed();
        let candidate = digest(key);
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        // NB: no early return, so the time taken does not say which key nearly matched.
        let mut matched = subtle::Choice::from(0);
        for valid in self.inline.iter().chain(state.from_file.iter()) {
            matched |= valid.ct_eq(&candidate);
        }
        matched.into()
    }

    /// The digest of `key` if it is one of the valid keys (constant time in the key's content).
    pub fn digest_if_valid(&self, key: &str) -> Option<[u8; 32]> {
        self.accepts(key).then(|| digest(key))
    }

    /// The digests of every valid key.
    pub fn digests(&self) -> Vec<[u8; 32]> {
        self.reload_if_changed();
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        self.inline
            .iter()
            .chain(state.from_file.iter())
            .copied()
            .collect()
    }

    fn reload_if_changed(&self) {
        let Some(path) = &self.file else { return };
        {
            let state = self.state.read().unwrap_or_else(|e| e.into_inner());
            if state.checked.elapsed() < RELOAD_EVERY {
                return;
            }
        }
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state.checked = Instant::now();
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        if modified == state.modified {
            return;
        }
        match read_keys(path) {
            Ok((keys, modified)) if !keys.is_empty() => {
                tracing::info!(keys = keys.len(), "API keys file changed; keys reloaded");
                state.from_file = keys;
                state.modified = modified;
            }
            Ok(_) => tracing::warn!("API keys file is now empty; keeping the previous keys"),
            Err(err) => {
                tracing::warn!(error = %err, "API keys file unreadable; keeping the previous keys")
            }
        }
    }
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

fn read_keys(path: &Path) -> Result<(Vec<[u8; 32]>, Option<SystemTime>)> {
    let err = |source| Error::KeysFile {
        path: path.display().to_string(),
        source,
    };
    let text = std::fs::read_to_string(path).map_err(err)?;
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let keys = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(digest)
        .collect();
    Ok((keys, modified))
}

/// Middleware answering `401` unless the request carries a valid `Authorization: Bearer` key.
pub async fn require_api_key(
    State(keys): State<Arc<ApiKeys>>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let Some(token) = header.and_then(bearer_token) else {
        return Err(ApiError::new(
            Code::Unauthorized,
            "send an API key as `Authorization: Bearer <key>`",
        ));
    };
    if !keys.accepts(token) {
        return Err(ApiError::new(
            Code::Unauthorized,
            "the API key is not valid",
        ));
    }
    Ok(next.run(request).await)
}

/// The token of a `Bearer` authorization value (scheme case-insensitive).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_of_the_file_and_the_environment_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        std::fs::write(&path, "# rotated on Monday\nold-key\n\n  new-key  \n").unwrap();
        let keys = ApiKeys::load(Some(&path), &["env-key".into()]).unwrap();
        for key in ["old-key", "new-key", "env-key"] {
            assert!(keys.accepts(key), "{key}");
        }
        assert!(!keys.accepts("new-ke"));
        assert!(!keys.accepts("# rotated on Monday"));
        assert!(!keys.accepts(""));
    }

    #[test]
    fn no_key_at_all_is_a_configuration_error() {
        let err = ApiKeys::load(None, &[" ".into()]).unwrap_err();
        assert!(err.is_configuration());
        assert!(err.to_string().contains("--auth none"));
    }

    #[test]
    fn a_missing_keys_file_is_named() {
        let err = ApiKeys::load(Some(Path::new("/nonexistent/keys")), &[]).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/keys"));
    }

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer   abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer"), None);
        assert_eq!(bearer_token("Bearer "), None);
    }
}
