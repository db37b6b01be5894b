//! Portal sessions and CSRF tokens, stateless so every api replica accepts them.
//!
//! Logging in with an API key sets the cookie `guardrails_session` to `<expiry>.<nonce>.<tag>`,
//! where the tag is an HMAC of the expiry and a random nonce keyed by the SHA-256 digest of the
//! key: the key itself is never
//! in the cookie, the session ends when its key is removed from the valid keys, and it expires
//! after [`SESSION_LIFETIME`]. The CSRF token of a session is another HMAC under the same key,
//! so only a page of the portal (same origin, the cookie being HttpOnly) can know it.
//!
//! With `--auth none` a session is keyed by a random secret of this process and is handed out
//! on the first visit: there is no login, but forms still need their token.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, header};
use cookie::{Cookie, CookieBuilder, SameSite};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::auth::ApiKeys;

/// Name of the session cookie.
pub const COOKIE: &str = "guardrails_session";

/// How long a session lasts after the login.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// Who may open sessions: holders of an API key, or anyone (`--auth none`).
#[derive(Clone)]
pub enum Sessions {
    /// A session per login with a valid API key.
    ApiKeys(Arc<ApiKeys>),
    /// No authentication: every visitor gets a session keyed by this process's secret.
    Open([u8; 32]),
}

/// A valid session: the key digest it is bound to, when it ends, and its own random nonce.
#[derive(Clone, Debug)]
pub struct Session {
    key: [u8; 32],
    expires: u64,
    nonce: String,
}

impl Sessions {
    /// Sessions for `keys`, or open ones when there are none.
    pub fn new(keys: Option<Arc<ApiKeys>>) -> Self {
        match keys {
            Some(keys) => Sessions::ApiKeys(keys),
            None => Sessions::Open(rand::random()),
        }
    }

    /// Whether visitors must log in with a key.
    pub fn needs_login(&self) -> bool {
        matches!(self, Sessions::ApiKeys(_))
    }

    /// A new session for `api_key` if it is valid (any visitor's with `--auth none`).
    pub fn open(&self, api_key: Option<&str>, now: u64) -> Option<Session> {
        let key = match self {
            Sessions::ApiKeys(keys) => keys.digest_if_valid(api_key?.trim())?,
            Sessions::Open(secret) => *secret,
        };
        Some(Session {
            key,
            expires: now + SESSION_LIFETIME.as_secs(),
            nonce: hex::encode(rand::random::<[u8; 16]>()),
        })
    }

    /// The session the request's cookie proves, if it is valid and not expired at `now`.
    pub fn from_headers(&self, headers: &HeaderMap, now: u64) -> Option<Session> {
        let value = cookie_value(headers, COOKIE)?;
        let mut parts = value.splitn(3, '.');
        let (expires, nonce, tag) = (parts.next()?, parts.next()?, parts.next()?);
        let expires: u64 = expires.parse().ok()?;
        if nonce.len() != 32 || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let tag = hex::decode(tag).ok()?;
        if expires <= now {
            return None;
        }
        let candidates = match self {
            Sessions::ApiKeys(keys) => keys.digests(),
            Sessions::Open(secret) => vec![*secret],
        };
        // NB: every candidate is checked, so the time taken does not say which key matched.
        let mut found = None;
        for key in candidates {
            let session = Session {
                key,
                expires,
                nonce: nonce.to_owned(),
            };
            if bool::from(session.tag("session").ct_eq(&tag)) {
                found = Some(session);
            }
        }
        found
    }
}

impl Session {
    /// The cookie that carries this session (`Secure` when the portal is reached over HTTPS).
    pub fn cookie(&self, secure: bool) -> Cookie<'static> {
        let value = format!(
            "{}.{}.{}",
            self.expires,
            self.nonce,
            hex::encode(self.tag("session"))
        );
        base_cookie(COOKIE, value, "/ui", secure)
            .max_age(cookie_duration(SESSION_LIFETIME))
            .build()
    }

    /// The CSRF token every form of this session must send back.
    pub fn csrf_token(&self) -> String {
        hex::encode(self.tag("csrf"))
    }

    /// Whether `token` is this session's CSRF token (constant time).
    pub fn accepts_csrf(&self, token: &str) -> bool {
        hex::decode(token.trim()).is_ok_and(|t| bool::from(self.tag("csrf").ct_eq(&t)))
    }

    fn tag(&self, purpose: &str) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(
            format!(
                "guardrails-portal|{purpose}|{}|{}",
                self.expires, self.nonce
            )
            .as_bytes(),
        );
        mac.finalize().into_bytes().to_vec()
    }
}

/// The cookie that ends a session in the browser.
pub fn logout_cookie(secure: bool) -> Cookie<'static> {
    base_cookie(COOKIE, String::new(), "/ui", secure)
        .max_age(cookie::time::Duration::ZERO)
        .build()
}

/// Name of the cookie that carries the login form's token.
pub const LOGIN_COOKIE: &str = "guardrails_login";

/// How long a login form stays usable.
const LOGIN_FORM_LIFETIME: Duration = Duration::from_secs(3600);

/// The login form's CSRF token (double submit): random, carried both in the form and in a
/// cookie scoped to the login page, which a cross-site form cannot set.
pub struct LoginToken(String);

impl LoginToken {
    /// A fresh token.
    pub fn new() -> Self {
        LoginToken(hex::encode(rand::random::<[u8; 16]>()))
    }

    /// The token of the request's login cookie, if the posted form repeats it (constant time).
    pub fn posted(headers: &HeaderMap, form_token: &str) -> Option<Self> {
        let token = cookie_value(headers, LOGIN_COOKIE)?;
        let same = !token.is_empty() && bool::from(token.as_bytes().ct_eq(form_token.as_bytes()));
        same.then(|| LoginToken(token.to_owned()))
    }

    /// The value the form carries.
    pub fn value(&self) -> &str {
        &self.0
    }

    /// The cookie that carries it.
    pub fn cookie(&self, secure: bool) -> Cookie<'static> {
        base_cookie(LOGIN_COOKIE, self.0.clone(), "/ui/login", secure)
            .max_age(cookie_duration(LOGIN_FORM_LIFETIME))
            .build()
    }
}

impl Default for LoginToken {
    fn default() -> Self {
        Self::new()
    }
}

fn base_cookie(
    name: &'static str,
    value: String,
    path: &'static str,
    secure: bool,
) -> CookieBuilder<'static> {
    Cookie::build((name, value))
        .path(path)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
}

fn cookie_duration(duration: Duration) -> cookie::time::Duration {
    cookie::time::Duration::seconds(i64::try_from(duration.as_secs()).unwrap_or(i64::MAX))
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(n, v)| (n == name).then_some(v))
}

/// Whether the request reached the portal over HTTPS (directly or through a proxy saying so).
pub fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Sessions {
        Sessions::new(Some(Arc::new(
            ApiKeys::load(None, &["good-key".into()]).unwrap(),
        )))
    }

    fn with_cookie(cookie: &Cookie<'_>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let pair = format!("other=1; {}={}", cookie.name(), cookie.value());
        headers.insert(header::COOKIE, pair.parse().unwrap());
        headers
    }

    #[test]
    fn a_valid_key_opens_a_session_that_its_cookie_proves() {
        let sessions = keys();
        assert!(sessions.open(Some("bad-key"), 100).is_none());
        let session = sessions.open(Some("good-key"), 100).unwrap();
        let cookie = session.cookie(false);
        assert!(!cookie.value().contains("good-key"));
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(cookie.same_site(), Some(SameSite::Strict));
        assert_eq!(session.cookie(true).secure(), Some(true));
        let back = sessions.from_headers(&with_cookie(&cookie), 200).unwrap();
        assert!(back.accepts_csrf(&session.csrf_token()));
        assert!(!back.accepts_csrf("00"));
    }

    #[test]
    fn a_forged_or_expired_cookie_is_no_session() {
        let sessions = keys();
        let session = sessions.open(Some("good-key"), 100).unwrap();
        let late = 100 + SESSION_LIFETIME.as_secs();
        assert!(
            sessions
                .from_headers(&with_cookie(&session.cookie(false)), late)
                .is_none()
        );
        let forged = Cookie::new(
            COOKIE,
            format!("{}.{}.{}", u64::MAX, "0".repeat(32), "ab".repeat(32)),
        );
        assert!(sessions.from_headers(&with_cookie(&forged), 200).is_none());
        let other = keys().open(Some("good-key"), 100).unwrap();
        let stretched = Cookie::new(
            COOKIE,
            format!("999999.{}.{}", other.nonce, other.csrf_token()),
        );
        assert!(
            sessions
                .from_headers(&with_cookie(&stretched), 200)
                .is_none()
        );
        let second = sessions.open(Some("good-key"), 100).unwrap();
        assert!(
            !second.accepts_csrf(&session.csrf_token()),
            "each login has its own token"
        );
    }

    #[test]
    fn a_session_opened_on_one_replica_is_accepted_by_another_with_the_same_keys() {
        let (first, second) = (keys(), keys());
        let session = first.open(Some("good-key"), 100).unwrap();
        let back = second
            .from_headers(&with_cookie(&session.cookie(false)), 200)
            .expect("nothing of the session is kept in the process");
        assert!(back.accepts_csrf(&session.csrf_token()));
    }

    #[test]
    fn open_sessions_need_no_key_but_still_a_csrf_token() {
        let sessions = Sessions::new(None);
        assert!(!sessions.needs_login());
        let session = sessions.open(None, 5).unwrap();
        let back = sessions
            .from_headers(&with_cookie(&session.cookie(false)), 6)
            .unwrap();
        assert!(back.accepts_csrf(&session.csrf_token()));
        assert!(
            Sessions::new(None)
                .from_headers(&with_cookie(&session.cookie(false)), 6)
                .is_none()
        );
    }
}
