//! The access token (rules T1, T2): fetched with the generated access-token operation, cached
//! until shortly before it expires, fetched once when many calls need it at the same moment (the
//! others wait for that one request), and dropped after a 401 so the next attempt fetches anew.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderValue;

use super::clock::Clock;
use super::error::{CallContext, Error, RawBody};
use super::operation::CallOptions;
use super::secrets::Secret;
use super::Client;

/// An access token and when it expires. `Debug` never shows the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    token: Secret,
    expires_at: SystemTime,
    refresh_at: SystemTime,
    /// `Bearer <token>`, built once per token rather than per request; marked sensitive, so its
    /// `Debug` shows `Sensitive` (None when the token is not a valid header value).
    header: Option<HeaderValue>,
}

impl AccessToken {
    fn new(token: Secret, expires_at: SystemTime, refresh_at: SystemTime) -> Self {
        let header = HeaderValue::from_str(&format!("Bearer {}", token.expose())).ok().map(|mut value| {
            value.set_sensitive(true);
            value
        });
        Self { token, expires_at, refresh_at, header }
    }

    /// The JWT itself (send it as `Bearer <token>`); the one way to read it.
    pub fn expose(&self) -> &str {
        self.token.expose()
    }

    /// When the token expires.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }

    /// The `Authorization` header value, marked sensitive so HTTP layers do not log it.
    pub(crate) fn header_value(&self) -> Option<HeaderValue> {
        self.header.clone()
    }
}

/// The token cache of one client.
#[derive(Debug)]
pub(crate) struct TokenCache {
    /// The current token: every call reads it without waiting.
    fresh: std::sync::RwLock<Option<Arc<AccessToken>>>,
    /// Held while fetching, so concurrent callers wait for the one request instead of sending
    /// their own.
    fetching: tokio::sync::Mutex<()>,
    margin: Duration,
    clock: Arc<dyn Clock>,
}

impl TokenCache {
    pub(crate) fn new(margin: Duration, clock: Arc<dyn Clock>) -> Self {
        Self { fresh: std::sync::RwLock::new(None), fetching: tokio::sync::Mutex::new(()), margin, clock }
    }

    /// The cached token when it is not about to expire.
    fn valid(&self) -> Option<Arc<AccessToken>> {
        let now = self.clock.now();
        let fresh = self.fresh.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        fresh.as_ref().filter(|token| now < token.refresh_at).cloned()
    }

    /// A token that is not about to expire: the cached one, or one fetched by exactly one of the
    /// callers that found none (the others wait for it).
    pub(crate) async fn get(&self, client: &Client) -> Result<Arc<AccessToken>, Error> {
        if let Some(token) = self.valid() {
            return Ok(token);
        }
        let _fetching = self.fetching.lock().await;
        // Another caller may have fetched one while this one waited for the lock.
        if let Some(token) = self.valid() {
            return Ok(token);
        }
        let token = Arc::new(fetch(client, self.margin, self.clock.as_ref()).await?);
        *self.fresh.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(token.clone());
        Ok(token)
    }

    /// Drops `used` after the server rejected it (401); a token fetched meanwhile by another
    /// call is kept, so many rejected calls still cause one fetch.
    pub(crate) async fn invalidate(&self, used: &AccessToken) {
        let mut fresh = self.fresh.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if fresh.as_deref() == Some(used) {
            *fresh = None;
        }
    }
}

type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<AccessToken, Error>> + Send + 'a>>;

/// Calls the generated access-token operation. Boxed: the operation goes through the same
/// pipeline that asks this cache for tokens, and an async call cycle needs one indirection.
fn fetch<'a>(client: &'a Client, margin: Duration, clock: &'a dyn Clock) -> TokenFuture<'a> {
    Box::pin(async move {
        let response = client.fetch_authorization_token_using_post(CallOptions::default()).await?;
        let now = clock.now();
        let expires_at = expiry(now, &response.expires_in, &response.expires_on).ok_or_else(|| Error::Decode {
            context: Box::new(CallContext {
                operation: crate::access_token_client::FETCH_AUTHORIZATION_TOKEN_USING_POST.id,
                reference: None,
                idempotency_key: None,
                attempts: 1,
            }),
            status: 200,
            field: "expires_in".to_string(),
            message: "neither expires_in nor expires_on is a number of seconds in the future".to_string(),
            headers: Box::default(),
            body: RawBody::default(),
        })?;
        let lifetime = expires_at.duration_since(now).unwrap_or(Duration::ZERO);
        let refresh_at = expires_at - margin.min(lifetime / 2);
        Ok(AccessToken::new(Secret::new(response.access_token), expires_at, refresh_at))
    })
}

/// The expiry from the numeric strings of the token response: `expires_in` (seconds from now)
/// and `expires_on` (Unix time); the earlier one wins, an `expires_on` already past (clock skew)
/// is ignored.
pub(crate) fn expiry(now: SystemTime, expires_in: &str, expires_on: &str) -> Option<SystemTime> {
    let relative = expires_in.trim().parse::<u64>().ok().filter(|s| *s > 0).map(|s| now + Duration::from_secs(s));
    let absolute = expires_on
        .trim()
        .parse::<u64>()
        .ok()
        .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s))
        .filter(|at| *at > now);
    match (relative, absolute) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_takes_the_earlier_of_expires_in_and_expires_on() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(expiry(now, "3600", "1003000"), Some(now + Duration::from_secs(3000)));
        assert_eq!(expiry(now, "3600", "2000000"), Some(now + Duration::from_secs(3600)));
        assert_eq!(expiry(now, "3600", "5"), Some(now + Duration::from_secs(3600)), "a past expires_on is clock skew");
        assert_eq!(expiry(now, "x", "1000100"), Some(now + Duration::from_secs(100)));
        assert_eq!(expiry(now, "x", "y"), None);
    }

    #[test]
    fn the_token_header_is_bearer_and_sensitive_and_debug_is_redacted() {
        let now = SystemTime::UNIX_EPOCH;
        let token = AccessToken::new(Secret::new("jwt-abc"), now, now);
        let header = token.header_value().expect("valid header");
        assert_eq!(header.to_str().ok(), Some("Bearer jwt-abc"));
        assert!(header.is_sensitive());
        assert!(!format!("{token:?}").contains("jwt-abc"));
    }
}
