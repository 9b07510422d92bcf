//! Webhook request signing (rule W2), and the verification helper for receivers.
//!
//! Each webhook request carries:
//!
//! - `x-ms-date`: the send time, RFC 1123 (`Wed, 01 Jan 2025 12:00:00 GMT`);
//! - `x-ms-content-sha256`: base64 of the SHA-256 of the body;
//! - `Host`: the target's authority (`127.0.0.1:41234`);
//! - `Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<sig>`,
//!   where `<sig>` is base64 of HMAC-SHA256 keyed with the webhook's secret over
//!   `"POST\n<path and query>\n<x-ms-date>;<host>;<content hash>"`.
//!
//! A receiver checks a request with [`verify_webhook_signature`].

use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The signed-headers list every webhook request names.
pub const SIGNED_HEADERS: &str = "x-ms-date;host;x-ms-content-sha256";

/// Why a webhook request does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookSignatureError {
    /// A header needed for verification is missing or not valid text.
    MissingHeader(&'static str),
    /// `x-ms-content-sha256` is not the base64 SHA-256 of the body (the body was changed).
    ContentHashMismatch,
    /// `Authorization` is not `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=...`.
    MalformedAuthorization,
    /// The signature does not match (wrong secret, or a signed header or the path was changed).
    SignatureMismatch,
}

impl std::fmt::Display for WebhookSignatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WebhookSignatureError::MissingHeader(name) => write!(f, "header `{name}` is missing or not valid text"),
            WebhookSignatureError::ContentHashMismatch => {
                f.write_str("x-ms-content-sha256 does not match the SHA-256 of the body")
            }
            WebhookSignatureError::MalformedAuthorization => f.write_str(
                "Authorization is not `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<base64>`",
            ),
            WebhookSignatureError::SignatureMismatch => f.write_str("the HMAC-SHA256 signature does not match"),
        }
    }
}

impl std::error::Error for WebhookSignatureError {}

/// base64(SHA-256(body)), the `x-ms-content-sha256` value.
pub fn content_hash(body: &[u8]) -> String {
    BASE64.encode(Sha256::digest(body))
}

/// `at` as the `x-ms-date` value (RFC 1123, GMT).
pub fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn string_to_sign(method: &str, path_and_query: &str, date: &str, host: &str, hash: &str) -> String {
    format!("{}\n{path_and_query}\n{date};{host};{hash}", method.to_ascii_uppercase())
}

fn mac(secret: &str) -> HmacSha256 {
    HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length")
}

/// The headers the simulator puts on one webhook request: `(name, value)` pairs for
/// `x-ms-date`, `x-ms-content-sha256`, `host` and `authorization`.
pub fn sign(
    secret: &str,
    path_and_query: &str,
    host: &str,
    date: &str,
    body: &[u8],
) -> [(&'static str, String); 4] {
    let hash = content_hash(body);
    let mut mac = mac(secret);
    mac.update(string_to_sign("POST", path_and_query, date, host, &hash).as_bytes());
    let signature = BASE64.encode(mac.finalize().into_bytes());
    [
        ("x-ms-date", date.to_string()),
        ("x-ms-content-sha256", hash),
        ("host", host.to_string()),
        (
            "authorization",
            format!("HMAC-SHA256 SignedHeaders={SIGNED_HEADERS}&Signature={signature}"),
        ),
    ]
}

fn text<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, WebhookSignatureError> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .ok_or(WebhookSignatureError::MissingHeader(name))
}

/// Checks a received webhook request (rule W2): the body's hash against `x-ms-content-sha256`,
/// and the `Authorization` signature, keyed with `secret`, over the method, `path_and_query`
/// (as received, e.g. `/hooks/payments?shop=1`) and the `x-ms-date`, `Host` and
/// `x-ms-content-sha256` headers. The signature is compared in constant time.
///
/// ```
/// use axum::http::{HeaderMap, HeaderName, HeaderValue};
/// use vipps_contract_tests::sim::webhooks::{sign, verify_webhook_signature};
///
/// let body = br#"{"name":"CAPTURED"}"#;
/// let mut headers = HeaderMap::new();
/// for (name, value) in sign("s3cret", "/hook", "127.0.0.1:9000", "Wed, 01 Jan 2025 12:00:00 GMT", body) {
///     headers.insert(HeaderName::from_static(name), HeaderValue::from_str(&value).unwrap());
/// }
/// assert!(verify_webhook_signature("s3cret", "POST", "/hook", &headers, body).is_ok());
/// assert!(verify_webhook_signature("other", "POST", "/hook", &headers, body).is_err());
/// ```
pub fn verify_webhook_signature(
    secret: &str,
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), WebhookSignatureError> {
    let date = text(headers, "x-ms-date")?;
    let host = text(headers, "host")?;
    let hash = text(headers, "x-ms-content-sha256")?;
    let authorization = text(headers, "authorization")?;
    if content_hash(body) != hash {
        return Err(WebhookSignatureError::ContentHashMismatch);
    }
    let signature = authorization
        .strip_prefix("HMAC-SHA256 ")
        .and_then(|rest| rest.trim().strip_prefix("SignedHeaders="))
        .and_then(|rest| rest.split_once("&Signature="))
        .filter(|(signed, _)| signed.eq_ignore_ascii_case(SIGNED_HEADERS))
        .map(|(_, signature)| signature.trim())
        .ok_or(WebhookSignatureError::MalformedAuthorization)?;
    let signature = BASE64
        .decode(signature)
        .map_err(|_| WebhookSignatureError::MalformedAuthorization)?;
    let mut mac = mac(secret);
    mac.update(string_to_sign(method, path_and_query, date, host, hash).as_bytes());
    mac.verify_slice(&signature).map_err(|_| WebhookSignatureError::SignatureMismatch)
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderName, HeaderValue};
    use chrono::TimeZone;

    use super::*;

    const DATE: &str = "Wed, 01 Jan 2025 12:00:00 GMT";

    fn signed(secret: &str, path: &str, body: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in sign(secret, path, "127.0.0.1:8080", DATE, body) {
            headers.insert(HeaderName::from_static(name), HeaderValue::from_str(&value).unwrap());
        }
        headers
    }

    #[test]
    fn http_date_is_rfc_1123() {
        let at = Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap();
        assert_eq!(http_date(at), DATE);
    }

    #[test]
    fn content_hash_is_base64_sha256() {
        // SHA-256 of the empty string.
        assert_eq!(content_hash(b""), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    }

    #[test]
    fn signature_matches_a_known_value() {
        // HMAC-SHA256("secret", "POST\n/hook\nWed, 01 Jan 2025 12:00:00 GMT;127.0.0.1:8080;<hash of {}>")
        let headers = signed("secret", "/hook", b"{}");
        let hash = content_hash(b"{}");
        let mut mac = mac("secret");
        mac.update(format!("POST\n/hook\n{DATE};127.0.0.1:8080;{hash}").as_bytes());
        let expected = BASE64.encode(mac.finalize().into_bytes());
        assert_eq!(
            headers["authorization"].to_str().unwrap(),
            format!("HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={expected}")
        );
    }

    #[test]
    fn verification_catches_every_change() {
        let body = br#"{"reference":"order-1"}"#;
        let headers = signed("secret", "/hook?a=1", body);
        assert_eq!(verify_webhook_signature("secret", "POST", "/hook?a=1", &headers, body), Ok(()));
        assert_eq!(
            verify_webhook_signature("wrong", "POST", "/hook?a=1", &headers, body),
            Err(WebhookSignatureError::SignatureMismatch)
        );
        assert_eq!(
            verify_webhook_signature("secret", "POST", "/hook?a=2", &headers, body),
            Err(WebhookSignatureError::SignatureMismatch)
        );
        assert_eq!(
            verify_webhook_signature("secret", "POST", "/hook?a=1", &headers, br#"{"reference":"order-2"}"#),
            Err(WebhookSignatureError::ContentHashMismatch)
        );
        let mut dated = headers.clone();
        dated.insert("x-ms-date", HeaderValue::from_static("Thu, 02 Jan 2025 12:00:00 GMT"));
        assert_eq!(
            verify_webhook_signature("secret", "POST", "/hook?a=1", &dated, body),
            Err(WebhookSignatureError::SignatureMismatch)
        );
        let mut hostless = headers.clone();
        hostless.remove("host");
        assert_eq!(
            verify_webhook_signature("secret", "POST", "/hook?a=1", &hostless, body),
            Err(WebhookSignatureError::MissingHeader("host"))
        );
        let mut bare = headers;
        bare.insert("authorization", HeaderValue::from_static("Bearer abc"));
        assert_eq!(
            verify_webhook_signature("secret", "POST", "/hook?a=1", &bare, body),
            Err(WebhookSignatureError::MalformedAuthorization)
        );
    }
}
