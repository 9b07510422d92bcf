//! Receiving webhooks (rules W2, I10), independent of any web framework: hand
//! [`WebhookVerifier::verify`] the method, path and query, headers and body of an incoming request
//! and get the typed event back, or the [`WebhookError`] that names the check that failed.
//! [`Redeliveries`] drops an event delivered again (webhooks come at least once) with bounded
//! memory.
//!
//! The checks, in order: the headers are there; `Host` is the one the webhook was registered
//! for; `x-ms-date` is within the window around now (default 5 minutes each way, a replayed
//! old request is refused); `x-ms-content-sha256` is the base64 SHA-256 of the body; the
//! `Authorization` header's HMAC-SHA256 (keyed with the secret the registration returned) over
//! `"<METHOD>\n<path and query>\n<x-ms-date>;<host>;<content hash>"` matches, compared in
//! constant time; the body decodes as the event type.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::bounded::BoundedMap;
use super::clock::{Clock, SystemClock};
use super::secrets::Secret;

/// The signed-headers list a webhook request names in `Authorization`.
const SIGNED_HEADERS: &str = "x-ms-date;host;x-ms-content-sha256";

/// How far `x-ms-date` may be from now, either way, by default.
pub const DEFAULT_WEBHOOK_WINDOW: Duration = Duration::from_secs(5 * 60);

/// Why an incoming webhook request was refused. Never holds the secret or the signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// A header the check needs is missing or not text.
    #[error("webhook refused: header `{0}` is missing or not valid text")]
    MissingHeader(&'static str),
    /// `Host` is not the host the webhook was registered for.
    #[error("webhook refused: Host is {received:?}, expected {expected:?}")]
    WrongHost {
        /// The host the verifier was made for.
        expected: String,
        /// The `Host` header received.
        received: String,
    },
    /// `x-ms-date` is not an RFC 1123 date.
    #[error("webhook refused: x-ms-date {0:?} is not an RFC 1123 date")]
    MalformedDate(String),
    /// `x-ms-date` is further from now than the window allows (a replay, or a skewed clock).
    #[error("webhook refused: x-ms-date {date:?} is {skew:?} away from now, beyond the {window:?} window")]
    Stale {
        /// The `x-ms-date` received.
        date: String,
        /// How far it is from now.
        skew: Duration,
        /// The allowed distance.
        window: Duration,
    },
    /// `x-ms-content-sha256` is not the SHA-256 of the body: the body was changed.
    #[error("webhook refused: x-ms-content-sha256 does not match the SHA-256 of the body")]
    ContentHashMismatch,
    /// `Authorization` is not `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<base64>`.
    #[error("webhook refused: Authorization is not an HMAC-SHA256 signature over x-ms-date;host;x-ms-content-sha256")]
    MalformedAuthorization,
    /// The signature does not match: another secret, or a changed path, date or host.
    #[error("webhook refused: the HMAC-SHA256 signature does not match")]
    SignatureMismatch,
    /// The request is authentic but its body is not the event type.
    #[error("webhook body does not decode at `{field}`: {message}")]
    Body {
        /// The JSON path of the first mismatch.
        field: String,
        /// serde's message.
        message: String,
    },
}

/// An incoming request, as any framework hands it over.
#[derive(Debug, Clone)]
pub struct WebhookRequest<'a> {
    method: &'a str,
    path_and_query: &'a str,
    headers: Vec<(String, String)>,
    body: &'a [u8],
}

impl<'a> WebhookRequest<'a> {
    /// `method` (`POST`), `path_and_query` as received (`/hooks/payments?shop=1`) and the body
    /// bytes; add the headers with [`headers`](Self::headers).
    pub fn new(method: &'a str, path_and_query: &'a str, body: &'a [u8]) -> Self {
        Self { method, path_and_query, headers: Vec::new(), body }
    }

    /// The request's headers, from any `(name, value)` pairs: `&http::HeaderMap`,
    /// `Vec<(String, String)>`... Values that are not UTF-8 are left out (their check then
    /// reports the header missing).
    pub fn headers<I, K, V>(mut self, headers: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<[u8]>,
    {
        for (name, value) in headers {
            if let Ok(value) = std::str::from_utf8(value.as_ref()) {
                self.headers.push((name.as_ref().to_ascii_lowercase(), value.to_string()));
            }
        }
        self
    }

    fn header(&self, name: &'static str) -> Result<&str, WebhookError> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim())
            .ok_or(WebhookError::MissingHeader(name))
    }
}

/// Checks incoming webhook requests of one registration. `Debug` shows no secret.
#[derive(Debug, Clone)]
pub struct WebhookVerifier {
    secret: Secret,
    host: String,
    window: Duration,
    clock: Arc<dyn Clock>,
}

impl WebhookVerifier {
    /// A verifier for the webhook registered with `secret` (from the registration's answer) at
    /// a URL whose authority is `host` (`shop.example:8443`, as the `Host` header carries it).
    pub fn new(secret: impl Into<Secret>, host: impl Into<String>) -> Self {
        Self { secret: secret.into(), host: host.into(), window: DEFAULT_WEBHOOK_WINDOW, clock: Arc::new(SystemClock) }
    }

    /// How far `x-ms-date` may be from now, either way (default [`DEFAULT_WEBHOOK_WINDOW`]).
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// The clock "now" is read from (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Verifies the request and decodes its body as `T` (for ePayment, its `WebhookEvent`).
    pub fn verify<T: DeserializeOwned>(&self, request: &WebhookRequest<'_>) -> Result<T, WebhookError> {
        self.authenticate(request)?;
        let mut deserializer = serde_json::Deserializer::from_slice(request.body);
        serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|error| WebhookError::Body { field: error.path().to_string(), message: error.inner().to_string() })
    }

    /// Every check but the body's type.
    pub fn authenticate(&self, request: &WebhookRequest<'_>) -> Result<(), WebhookError> {
        let date = request.header("x-ms-date")?;
        let host = request.header("host")?;
        let hash = request.header("x-ms-content-sha256")?;
        let authorization = request.header("authorization")?;
        if !host.eq_ignore_ascii_case(&self.host) {
            return Err(WebhookError::WrongHost { expected: self.host.clone(), received: host.to_string() });
        }
        self.check_date(date)?;
        if BASE64.encode(Sha256::digest(request.body)) != hash {
            return Err(WebhookError::ContentHashMismatch);
        }
        let signature = authorization
            .strip_prefix("HMAC-SHA256 ")
            .and_then(|rest| rest.trim().strip_prefix("SignedHeaders="))
            .and_then(|rest| rest.split_once("&Signature="))
            .filter(|(signed, _)| signed.eq_ignore_ascii_case(SIGNED_HEADERS))
            .and_then(|(_, signature)| BASE64.decode(signature.trim()).ok())
            .ok_or(WebhookError::MalformedAuthorization)?;
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.expose().as_bytes())
            .map_err(|_| WebhookError::SignatureMismatch)?;
        let method = request.method.to_ascii_uppercase();
        mac.update(format!("{method}\n{}\n{date};{host};{hash}", request.path_and_query).as_bytes());
        mac.verify_slice(&signature).map_err(|_| WebhookError::SignatureMismatch)
    }

    fn check_date(&self, date: &str) -> Result<(), WebhookError> {
        let sent = chrono::DateTime::parse_from_rfc2822(date).map_err(|_| WebhookError::MalformedDate(date.to_string()))?;
        let sent = SystemTime::from(sent.with_timezone(&chrono::Utc));
        let now = self.clock.now();
        let skew = match now.duration_since(sent) {
            Ok(behind) => behind,
            Err(ahead) => ahead.duration(),
        };
        if skew > self.window {
            return Err(WebhookError::Stale { date: date.to_string(), skew, window: self.window });
        }
        Ok(())
    }
}

/// Remembers the most recent delivery keys (`pspReference`, rule I10) to drop redeliveries;
/// past the capacity the oldest is forgotten, so memory stays bounded. Share it between the
/// tasks that receive webhooks (it locks internally).
#[derive(Debug)]
pub struct Redeliveries {
    seen: Mutex<BoundedMap<String, ()>>,
}

impl Redeliveries {
    /// Remembers up to `capacity` keys (at least one).
    pub fn new(capacity: usize) -> Self {
        Self { seen: Mutex::new(BoundedMap::new(capacity.max(1))) }
    }

    /// True the first time `key` is seen (handle the event), false for a redelivery (drop it).
    pub fn first_delivery(&self, key: &str) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.get(key).is_some() {
            return false;
        }
        seen.insert_new(key.to_string(), ());
        true
    }

    /// How many keys are remembered now.
    pub fn len(&self) -> usize {
        self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }

    /// Whether none is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;

    const DATE: &str = "Wed, 01 Jan 2025 12:00:00 GMT";
    const HOST: &str = "shop.example:8443";
    const PATH: &str = "/hooks/vipps?shop=1";

    /// 2025-01-01T12:00:00Z.
    fn sent_at() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_735_732_800)
    }

    fn signed(secret: &str, body: &[u8]) -> Vec<(String, String)> {
        let hash = BASE64.encode(Sha256::digest(body));
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(format!("POST\n{PATH}\n{DATE};{HOST};{hash}").as_bytes());
        let signature = BASE64.encode(mac.finalize().into_bytes());
        vec![
            ("X-Ms-Date".to_string(), DATE.to_string()),
            ("x-ms-content-sha256".to_string(), hash),
            ("Host".to_string(), HOST.to_string()),
            ("Authorization".to_string(), format!("HMAC-SHA256 SignedHeaders={SIGNED_HEADERS}&Signature={signature}")),
        ]
    }

    fn verifier(clock_at: SystemTime) -> WebhookVerifier {
        WebhookVerifier::new("whsec-SHOULD-NOT-LEAK", HOST).clock(ManualClock::new(clock_at))
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Event {
        reference: String,
    }

    const BODY: &[u8] = br#"{"reference":"order-1"}"#;

    #[test]
    fn a_signed_request_verifies_and_decodes() {
        let headers = signed("whsec-SHOULD-NOT-LEAK", BODY);
        let request = WebhookRequest::new("post", PATH, BODY).headers(headers);
        let event: Event = verifier(sent_at() + Duration::from_secs(30)).verify(&request).expect("verifies");
        assert_eq!(event, Event { reference: "order-1".into() });
    }

    #[test]
    fn each_check_fails_with_its_own_error() {
        let at = sent_at();
        let headers = signed("whsec-SHOULD-NOT-LEAK", BODY);
        let check = |verifier: &WebhookVerifier, headers: &[(String, String)], path: &str, body: &[u8]| {
            let request = WebhookRequest::new("POST", path, body).headers(headers.iter().map(|(k, v)| (k, v)));
            verifier.verify::<Event>(&request).expect_err("refused")
        };
        let tampered = br#"{"reference":"order-2"}"#;
        assert_eq!(check(&verifier(at), &headers, PATH, tampered), WebhookError::ContentHashMismatch);
        let other_secret = WebhookVerifier::new("another-secret", HOST).clock(ManualClock::new(at));
        assert_eq!(check(&other_secret, &headers, PATH, BODY), WebhookError::SignatureMismatch);
        assert_eq!(check(&verifier(at), &headers, "/hooks/vipps?shop=2", BODY), WebhookError::SignatureMismatch);
        let stale = check(&verifier(at + Duration::from_secs(301)), &headers, PATH, BODY);
        assert_eq!(stale, WebhookError::Stale { date: DATE.into(), skew: Duration::from_secs(301), window: DEFAULT_WEBHOOK_WINDOW });
        let early = check(&verifier(at - Duration::from_secs(301)), &headers, PATH, BODY);
        assert!(matches!(early, WebhookError::Stale { skew, .. } if skew == Duration::from_secs(301)), "{early:?}");
        assert!(verifier(at + Duration::from_secs(300)).verify::<Event>(&WebhookRequest::new("POST", PATH, BODY).headers(headers.clone())).is_ok(), "the window's edge is inside");
        let elsewhere = WebhookVerifier::new("whsec-SHOULD-NOT-LEAK", "other.example").clock(ManualClock::new(at));
        assert_eq!(check(&elsewhere, &headers, PATH, BODY), WebhookError::WrongHost { expected: "other.example".into(), received: HOST.into() });
        for missing in ["x-ms-date", "host", "x-ms-content-sha256", "authorization"] {
            let fewer: Vec<_> = headers.iter().filter(|(k, _)| !k.eq_ignore_ascii_case(missing)).cloned().collect();
            assert_eq!(check(&verifier(at), &fewer, PATH, BODY), WebhookError::MissingHeader(missing));
        }
        let mut bearer = headers.clone();
        bearer[3].1 = "Bearer abc".into();
        assert_eq!(check(&verifier(at), &bearer, PATH, BODY), WebhookError::MalformedAuthorization);
        let mut undated = headers.clone();
        undated[0].1 = "yesterday".into();
        assert_eq!(check(&verifier(at), &undated, PATH, BODY), WebhookError::MalformedDate("yesterday".into()));
        let not_an_event = br#"{"ref":1}"#;
        let signed_other = signed("whsec-SHOULD-NOT-LEAK", not_an_event);
        let error = check(&verifier(at), &signed_other, PATH, not_an_event);
        assert!(matches!(&error, WebhookError::Body { message, .. } if message.contains("missing field `reference`")), "{error:?}");
    }

    #[test]
    fn neither_debug_nor_errors_show_the_secret() {
        let verifier = verifier(sent_at());
        assert!(!format!("{verifier:?}").contains("SHOULD-NOT-LEAK"));
        let headers = signed("whsec-SHOULD-NOT-LEAK", BODY);
        let error = verifier.verify::<Event>(&WebhookRequest::new("POST", PATH, b"{}").headers(headers)).expect_err("tampered");
        assert!(!format!("{error:?} {error}").contains("SHOULD-NOT-LEAK"));
    }

    #[test]
    fn redeliveries_are_dropped_within_a_bounded_memory() {
        let seen = Redeliveries::new(2);
        assert!(seen.first_delivery("psp-1"));
        assert!(!seen.first_delivery("psp-1"), "a redelivery (rule I10)");
        assert!(seen.first_delivery("psp-2"));
        assert!(seen.first_delivery("psp-3"));
        assert_eq!(seen.len(), 2, "bounded");
        assert!(seen.first_delivery("psp-1"), "the oldest was forgotten");
        assert!(!seen.first_delivery("psp-3"));
        assert!(Redeliveries::new(0).first_delivery("x"), "a capacity of 0 still remembers one");
    }
}
