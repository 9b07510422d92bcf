//! The one public error type of the client. No variant holds a secret: request headers are never
//! kept, only response headers, and transport errors keep only their message (which names the URL,
//! never a header).

use std::fmt;
use std::time::Duration;

use reqwest::header::HeaderMap;

use super::problem::Problem;

/// What a failed call was about; in every error that comes from a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallContext {
    /// The spec's `operationId`.
    pub operation: &'static str,
    /// The payment reference (or what the settings name as the traced reference), if any.
    pub reference: Option<String>,
    /// The idempotency key sent, if the operation takes one: store it to retry safely later.
    pub idempotency_key: Option<String>,
    /// Attempts made (1 when nothing was retried).
    pub attempts: u32,
}

impl fmt::Display for CallContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.operation)?;
        if let Some(reference) = &self.reference {
            write!(f, " (reference {reference})")?;
        }
        Ok(())
    }
}

/// A response body kept as received; `Debug` shows at most 512 characters of it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct RawBody(pub Vec<u8>);

impl RawBody {
    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

/// JSON members whose values are credentials: masked when a body is shown in `Debug`.
/// (A token response that fails to decode must not put the token into an error message.)
const SENSITIVE_MEMBERS: &[&str] = &["access_token", "refresh_token", "id_token", "client_secret", "token", "secret"];

fn mask_sensitive(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, member) in map.iter_mut() {
                if SENSITIVE_MEMBERS.contains(&key.to_ascii_lowercase().as_str()) {
                    *member = serde_json::Value::String("[redacted]".into());
                } else {
                    mask_sensitive(member);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(mask_sensitive),
        _ => {}
    }
}

impl fmt::Debug for RawBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match serde_json::from_slice::<serde_json::Value>(&self.0) {
            Ok(mut json) => {
                mask_sensitive(&mut json);
                json.to_string()
            }
            // Not JSON: a token could still be in there, so only its size is shown.
            Err(_) if self.text().to_ascii_lowercase().contains("token") => format!("<{} bytes, not shown>", self.0.len()),
            Err(_) => self.text(),
        };
        let mut shown: String = text.chars().take(512).collect();
        if shown.len() < text.len() {
            shown.push_str("...");
        }
        write!(f, "RawBody({shown:?})")
    }
}

/// Why a request got no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// The connection could not be made.
    Connect,
    /// No complete response within the timeout.
    Timeout,
    /// The connection broke (closed before a complete response, reset, ...).
    Connection,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Connect => "could not connect",
            TransportKind::Timeout => "timed out",
            TransportKind::Connection => "connection failed",
        })
    }
}

/// Every way a client call (or building the client) can fail.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The builder was given an unusable configuration.
    #[error("invalid client configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
    /// Refused before sending: an argument or option breaks the spec's rules.
    #[error("{operation}: refused before sending: {message}")]
    InvalidInput {
        /// The spec's `operationId`.
        operation: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Refused before sending: this idempotency key was already sent with another request, and
    /// the server would answer with an idempotency conflict (rule I4).
    #[error("{operation}: refused before sending: idempotency key {key:?} was already sent with a different request")]
    IdempotencyKeyReused {
        /// The spec's `operationId`.
        operation: &'static str,
        /// The key.
        key: String,
    },
    /// Refused before sending: the operation exists only in the test environment and the client
    /// is configured for production (rule S14).
    #[error("{operation}: refused before sending: test-environment-only operation on a production client")]
    TestOnlyOperation {
        /// The spec's `operationId`.
        operation: &'static str,
    },
    /// No access token could be had for the call (the token call's own error is the source).
    #[error("{context}: could not get an access token: {source}")]
    Authentication {
        /// The call that needed the token.
        context: Box<CallContext>,
        /// Why the token call failed.
        source: Box<Error>,
    },
    /// No response: connect error, timeout or broken connection, after the retries allowed.
    #[error("{context}: {kind} after {} attempt(s): {message}", context.attempts)]
    Transport {
        /// The call.
        context: Box<CallContext>,
        /// What happened.
        kind: TransportKind,
        /// The transport's message (names the URL, never a header).
        message: String,
    },
    /// A status without a typed body: not documented by the spec for this operation, or
    /// documented without a body schema.
    #[error("{context}: status {status} ({})", if *documented { "documented without a body schema" } else { "not documented for this operation" })]
    Status {
        /// The call.
        context: Box<CallContext>,
        /// The HTTP status.
        status: u16,
        /// Whether the spec documents this status for the operation.
        documented: bool,
        /// Response headers.
        headers: Box<HeaderMap>,
        /// Response body as received.
        body: RawBody,
    },
    /// An error status with an RFC 7807 problem body: one the spec documents (the body matched
    /// the documented schema), or any other status answered with `application/problem+json`.
    /// [`Problem::decode`] reads it as the document's own problem type.
    #[error("{context}: status {status}: {}{}", problem.title, problem.detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Problem {
        /// The call.
        context: Box<CallContext>,
        /// The HTTP status.
        status: u16,
        /// Whether the spec documents this status for the operation.
        documented: bool,
        /// Response headers.
        headers: Box<HeaderMap>,
        /// The parsed problem.
        problem: Box<Problem>,
    },
    /// A documented status whose body does not match its schema: wrong type, missing required
    /// field, broken constraint. `field` is the path inside the body.
    #[error("{context}: status {status}: body does not match the spec at `{field}`: {message}")]
    Decode {
        /// The call.
        context: Box<CallContext>,
        /// The HTTP status.
        status: u16,
        /// Path of the offending field in the body (`aggregate.capturedAmount.value`; `.` for the root).
        field: String,
        /// What is wrong there.
        message: String,
        /// Response headers.
        headers: Box<HeaderMap>,
        /// Response body as received.
        body: RawBody,
    },
    /// A documented status with a body of another media type than the spec documents.
    #[error("{context}: status {status}: content type {content_type:?} is not the documented {expected}")]
    UnexpectedContentType {
        /// The call.
        context: Box<CallContext>,
        /// The HTTP status.
        status: u16,
        /// The `Content-Type` received.
        content_type: String,
        /// The documented media type.
        expected: &'static str,
        /// Response headers.
        headers: Box<HeaderMap>,
        /// Response body as received.
        body: RawBody,
    },
    /// Polling gave up: the payment was still in its initial state when the time ran out.
    #[error("payment {reference} still {state} after polling for {waited:?}")]
    PollTimedOut {
        /// The payment reference.
        reference: String,
        /// The last state seen, as the server spells it.
        state: String,
        /// How long polling went on.
        waited: Duration,
    },
}

impl Error {
    /// A value refused before sending.
    #[doc(hidden)]
    pub fn invalid_input(operation: &super::OperationInfo, message: impl Into<String>) -> Self {
        Error::InvalidInput { operation: operation.id, message: message.into() }
    }

    /// The call this error comes from, when it comes from a call.
    pub fn context(&self) -> Option<&CallContext> {
        match self {
            Error::Authentication { context, .. }
            | Error::Transport { context, .. }
            | Error::Status { context, .. }
            | Error::Problem { context, .. }
            | Error::Decode { context, .. }
            | Error::UnexpectedContentType { context, .. } => Some(context),
            _ => None,
        }
    }

    /// The spec's `operationId` of the failed call, if any.
    pub fn operation(&self) -> Option<&'static str> {
        match self {
            Error::InvalidInput { operation, .. }
            | Error::IdempotencyKeyReused { operation, .. }
            | Error::TestOnlyOperation { operation } => Some(operation),
            other => other.context().map(|c| c.operation),
        }
    }

    /// The HTTP status received, if a response came.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Status { status, .. }
            | Error::Problem { status, .. }
            | Error::Decode { status, .. }
            | Error::UnexpectedContentType { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The idempotency key that was sent (keep it to retry the same logical call later).
    pub fn idempotency_key(&self) -> Option<&str> {
        match self {
            Error::IdempotencyKeyReused { key, .. } => Some(key),
            other => other.context().and_then(|c| c.idempotency_key.as_deref()),
        }
    }

    /// The problem body of a documented error status.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Error::Problem { problem, .. } => Some(problem),
            _ => None,
        }
    }

    /// True for the errors the request was not (or could not be) sent for.
    pub fn is_refused_before_sending(&self) -> bool {
        matches!(
            self,
            Error::Config { .. } | Error::InvalidInput { .. } | Error::IdempotencyKeyReused { .. } | Error::TestOnlyOperation { .. }
        )
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_masks_credentials_in_json_bodies() {
        let body = RawBody(br#"{"token_type":"Bearer","expires_in":3600,"access_token":"eyJ-secret-jwt"}"#.to_vec());
        let shown = format!("{body:?}");
        assert!(!shown.contains("eyJ-secret-jwt"), "{shown}");
        assert!(shown.contains("[redacted]") && shown.contains("Bearer"), "{shown}");
        let text = RawBody(b"access_token=eyJ-secret-jwt".to_vec());
        assert!(!format!("{text:?}").contains("eyJ-secret-jwt"));
        // Explicit access still gives the bytes as received.
        assert!(body.text().contains("eyJ-secret-jwt"));
    }

    #[test]
    fn errors_stay_small_enough_to_return_by_value() {
        // clippy's result_large_err threshold is 128 bytes.
        assert!(std::mem::size_of::<Error>() <= 128, "Error is {} bytes", std::mem::size_of::<Error>());
    }

    #[test]
    fn raw_body_debug_is_bounded() {
        let body = RawBody(vec![b'x'; 2000]);
        let shown = format!("{body:?}");
        assert!(shown.len() < 600, "{shown}");
        assert!(shown.ends_with("...\")"), "{shown}");
    }
}

