//! The access token (rules T1, T2): fetched with the crate's access-token operation (retried
//! like any repeatable request), cached per merchant until shortly before it expires, fetched
//! once when many calls need it at the same moment (the others wait for that one request and
//! share its outcome, failure included), and dropped after a 401 so the next attempt fetches
//! anew.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderValue;
use tokio::sync::watch;

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

/// The token cache of one client, keyed by the merchant serial number the token call sends (the
/// one input of the token request that changes from call to call; credentials are the client's).
#[derive(Debug)]
pub(crate) struct TokenCache {
    slots: std::sync::Mutex<HashMap<Option<String>, Slot>>,
    margin: Duration,
    clock: Arc<dyn Clock>,
    /// A token given on the builder: every call uses it, none is fetched.
    fixed: Option<Arc<AccessToken>>,
}

/// What one fetch ends with, handed to every caller that waited for it.
type Outcome = Result<Arc<AccessToken>, Error>;

/// One merchant's token, and the fetch in flight for it.
#[derive(Debug, Default)]
struct Slot {
    /// The current token: every call reads it without waiting.
    fresh: Option<Arc<AccessToken>>,
    /// The fetch in flight, if any. Callers that find one wait for its outcome, failure
    /// included, instead of sending their own request; a fetch whose caller went away (its
    /// sender dropped) counts as none.
    fetching: Option<watch::Receiver<Option<Outcome>>>,
}

/// What a caller does after looking at the slot.
enum Next {
    Ready(Arc<AccessToken>),
    Wait(watch::Receiver<Option<Outcome>>),
    Fetch(watch::Sender<Option<Outcome>>),
}

impl TokenCache {
    pub(crate) fn new(margin: Duration, clock: Arc<dyn Clock>, fixed: Option<Secret>) -> Self {
        // A given token has no known expiry; the caller renews it.
        let never = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(u32::MAX));
        let fixed = fixed.map(|token| Arc::new(AccessToken::new(token, never, never)));
        Self { slots: std::sync::Mutex::new(HashMap::new()), margin, clock, fixed }
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<Option<String>, Slot>> {
        self.slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn next(&self, merchant: Option<&str>) -> Next {
        let now = self.clock.now();
        let mut slots = self.slots();
        let slot = slots.entry(merchant.map(str::to_string)).or_default();
        if let Some(token) = slot.fresh.as_ref().filter(|token| now < token.refresh_at) {
            return Next::Ready(token.clone());
        }
        if let Some(receiver) = slot.fetching.as_ref().filter(|receiver| receiver.has_changed().is_ok()) {
            return Next::Wait(receiver.clone());
        }
        let (sender, receiver) = watch::channel(None);
        slot.fetching = Some(receiver);
        Next::Fetch(sender)
    }

    /// A token for `merchant` that is not about to expire: the cached one, or one fetched by
    /// exactly one of the callers that found none; the others wait and share its outcome, so a
    /// failed fetch fails them all at once rather than each trying again in turn.
    pub(crate) async fn get(&self, client: &Client, merchant: Option<&str>) -> Outcome {
        if let Some(token) = &self.fixed {
            return Ok(token.clone());
        }
        loop {
            match self.next(merchant) {
                Next::Ready(token) => return Ok(token),
                Next::Wait(mut receiver) => {
                    if let Ok(outcome) = receiver.wait_for(Option::is_some).await
                        && let Some(outcome) = outcome.as_ref()
                    {
                        return outcome.clone();
                    }
                    // The fetching caller went away before it finished: look again.
                }
                Next::Fetch(sender) => {
                    let outcome = fetch(client, merchant, self.margin, self.clock.as_ref()).await.map(Arc::new);
                    {
                        let mut slots = self.slots();
                        let slot = slots.entry(merchant.map(str::to_string)).or_default();
                        slot.fetching = None;
                        if let Ok(token) = &outcome {
                            slot.fresh = Some(token.clone());
                        }
                    }
                    sender.send_replace(Some(outcome.clone()));
                    return outcome;
                }
            }
        }
    }

    /// Whether the token was given on the builder (then a 401 is the call's error: there is
    /// nothing to renew).
    pub(crate) fn is_fixed(&self) -> bool {
        self.fixed.is_some()
    }

    /// Drops `used` after the server rejected it (401); a token fetched meanwhile by another
    /// call is kept, so many rejected calls still cause one fetch.
    pub(crate) fn invalidate(&self, merchant: Option<&str>, used: &AccessToken) {
        let mut slots = self.slots();
        if let Some(slot) = slots.get_mut(&merchant.map(str::to_string))
            && slot.fresh.as_deref() == Some(used)
        {
            slot.fresh = None;
        }
    }
}

type FetchFuture<'a> = Pin<Box<dyn Future<Output = Result<AccessToken, Error>> + Send + 'a>>;

/// Calls the crate's token operation (through its [`Glue`](super::Glue)) and reads the expiry.
fn fetch<'a>(client: &'a Client, merchant: Option<&'a str>, margin: Duration, clock: &'a dyn Clock) -> FetchFuture<'a> {
    Box::pin(async move {
        let options = match merchant {
            Some(msn) => CallOptions::default().merchant_serial_number(msn),
            None => CallOptions::default(),
        };
        let Some(fetch_token) = client.config().glue.fetch_token else {
            return Err(Error::Config {
                message: "this client has no access-token operation (settings `client.token_operation`), so it cannot call an authenticated operation".into(),
            });
        };
        let grant = fetch_token(client, options).await?;
        let now = clock.now();
        let expires_at = expiry(now, grant.expires_in.as_deref().unwrap_or(""), grant.expires_on.as_deref().unwrap_or("")).ok_or_else(|| Error::Decode {
            context: Box::new(CallContext { operation: grant.operation, reference: None, idempotency_key: None, attempts: 1 }),
            status: 200,
            field: "expires_in".to_string(),
            message: "neither expires_in nor expires_on is a number of seconds in the future".to_string(),
            headers: Box::default(),
            body: RawBody::default(),
        })?;
        let lifetime = expires_at.duration_since(now).unwrap_or(Duration::ZERO);
        let refresh_at = expires_at - margin.min(lifetime / 2);
        Ok(AccessToken::new(Secret::new(grant.access_token), expires_at, refresh_at))
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
        assert_eq!(expiry(now, "0", "x"), None, "a lifetime of 0 s is no lifetime");
        assert_eq!(expiry(now, "x", "1000000"), None, "an expires_on of now is already past");
        assert_eq!(expiry(now, "1", "1000001"), Some(now + Duration::from_secs(1)));
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
