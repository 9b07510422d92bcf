//! What generated code hands the runtime: the static description of each API and operation
//! (`ApiInfo`, `OperationInfo`), a request being built (`Request`), and a response being read
//! (`Response`: decode by media type essence, or turn into the typed error).

use std::fmt::Display;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::{CallContext, Error, RawBody};
use super::problem::Problem;

/// One spec document's API, as generated (`<module>_client::API`).
#[derive(Debug)]
pub struct ApiInfo {
    /// The generated module.
    pub module: &'static str,
    /// `info.title`.
    pub title: &'static str,
    /// `info.version`.
    pub version: &'static str,
    /// `servers`, in document order.
    pub servers: &'static [&'static str],
    /// Environment name (from the codegen settings) -> server URL.
    pub environments: &'static [(&'static str, &'static str)],
    /// The system headers the API's operations declare, with their limits.
    pub system_headers: &'static [HeaderLimit],
}

impl ApiInfo {
    /// The server URL of an environment.
    pub fn server(&self, environment: &str) -> Option<&'static str> {
        self.environments.iter().find(|(name, _)| *name == environment).map(|(_, url)| *url)
    }
}

/// A header name and its `maxLength`.
#[derive(Debug)]
pub struct HeaderLimit {
    /// Wire name.
    pub name: &'static str,
    /// `maxLength`, in characters.
    pub max_length: Option<usize>,
}

/// What fills a header parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderRole {
    /// The access token (the auth layer).
    Authorization,
    /// The subscription key (credentials).
    SubscriptionKey,
    /// The merchant serial number (configuration).
    MerchantSerialNumber,
    /// The idempotency key (caller, or fresh per logical call).
    IdempotencyKey,
    /// A system-identification header (configuration; not sent when unset).
    System,
    /// The client id (credentials).
    ClientId,
    /// The client secret (credentials).
    ClientSecret,
    /// An ordinary parameter (a method argument).
    Plain,
}

/// A declared header parameter of an operation.
#[derive(Debug)]
pub struct HeaderInfo {
    /// Wire name.
    pub name: &'static str,
    /// What fills it.
    pub role: HeaderRole,
    /// `required`.
    pub required: bool,
    /// `maxLength`, in characters.
    pub max_length: Option<usize>,
}

/// One operation, as generated (`<module>_client::<OPERATION>`).
#[derive(Debug)]
pub struct OperationInfo {
    /// Its API.
    pub api: &'static ApiInfo,
    /// `operationId`.
    pub id: &'static str,
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path template (`/v1/payments/{Reference}`).
    pub path: &'static str,
    /// Needs the access token.
    pub authenticated: bool,
    /// Test environment only.
    pub test_only: bool,
    /// Sending it twice has no effect beyond sending it once (GET, HEAD, the token call): it is
    /// retried like a request with an idempotency key.
    pub repeatable: bool,
    /// Declared header parameters.
    pub headers: &'static [HeaderInfo],
}

/// Per-call settings of an operation without an idempotency key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallOptions {
    pub(crate) system_headers: Vec<(String, String)>,
    pub(crate) merchant_serial_number: Option<String>,
}

impl CallOptions {
    /// No per-call settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a system header (`Vipps-System-Name`, ...) for this call only, over the client's
    /// value. Checked before sending: the operation must declare the header, and the value must
    /// keep the spec's limit; otherwise the call fails with [`Error::InvalidInput`] and nothing
    /// is sent.
    pub fn system_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.system_headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(&name));
        self.system_headers.push((name, value.into()));
        self
    }

    /// The merchant this call is made for, over the client's (a partner serving many
    /// merchants with one set of keys). Checked before sending like the builder's value; the
    /// access token is fetched and cached per merchant.
    pub fn merchant_serial_number(mut self, msn: impl Into<String>) -> Self {
        self.merchant_serial_number = Some(msn.into());
        self
    }
}

/// Characters kept as they are in a path segment: RFC 3986 unreserved ones.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes a path parameter's value.
#[doc(hidden)]
pub fn encode_path_segment(value: &(impl Display + ?Sized)) -> String {
    utf8_percent_encode(&value.to_string(), PATH_SEGMENT).to_string()
}

/// A body ready to send.
#[derive(Debug, Clone)]
pub(crate) struct Body {
    pub(crate) bytes: Vec<u8>,
    pub(crate) media_type: &'static str,
}

/// A request built by a generated method.
#[derive(Debug)]
#[doc(hidden)]
pub struct Request {
    pub(crate) operation: &'static OperationInfo,
    pub(crate) path: String,
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) cookies: Vec<(&'static str, String)>,
    pub(crate) body: Option<Body>,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) reference: Option<String>,
    /// Parameters that carry a credential the caller fills (a security scheme the runtime
    /// cannot): their headers are sensitive, and errors never show a URL holding them.
    pub(crate) credentials: Vec<&'static str>,
}

impl Request {
    #[doc(hidden)]
    pub fn new(operation: &'static OperationInfo, path: String) -> Self {
        Self {
            operation,
            path,
            query: Vec::new(),
            headers: Vec::new(),
            cookies: Vec::new(),
            body: None,
            idempotency_key: None,
            reference: None,
            credentials: Vec::new(),
        }
    }

    /// Marks the parameter `name` as a credential (see [`Request::credentials`]).
    #[allow(dead_code)]
    #[doc(hidden)]
    pub fn credential(&mut self, name: &'static str) {
        self.credentials.push(name);
    }

    /// Whether the query holds a credential.
    pub(crate) fn credential_in_query(&self) -> bool {
        self.query.iter().any(|(name, _)| self.credentials.contains(name))
    }

    /// The value traced as the call's `reference`.
    #[doc(hidden)]
    pub fn reference(&mut self, reference: String) {
        self.reference = Some(reference);
    }

    /// The idempotency key of this logical call.
    #[doc(hidden)]
    pub fn idempotency_key(&mut self, key: String) {
        self.idempotency_key = Some(key);
    }

    /// A query parameter (generated for specs with query parameters).
    #[allow(dead_code)]
    #[doc(hidden)]
    pub fn query(&mut self, name: &'static str, value: String) {
        self.query.push((name, value));
    }

    /// A header parameter without a role (generated for specs with such headers).
    #[allow(dead_code)]
    #[doc(hidden)]
    pub fn header(&mut self, name: &'static str, value: String) {
        self.headers.push((name, value));
    }

    /// A cookie parameter (generated for specs with cookie parameters).
    #[allow(dead_code)]
    #[doc(hidden)]
    pub fn cookie(&mut self, name: &'static str, value: String) {
        self.cookies.push((name, value));
    }

    /// Serializes the body as form fields (`application/x-www-form-urlencoded`); a value with
    /// nested objects has no form encoding and is refused before sending.
    #[allow(dead_code)]
    #[doc(hidden)]
    pub fn form_body<T: Serialize>(&mut self, body: &T, media_type: &'static str) -> Result<(), Error> {
        let text = serde_urlencoded::to_string(body)
            .map_err(|error| Error::invalid_input(self.operation, format!("the body has no form encoding: {error}")))?;
        self.body = Some(Body { bytes: text.into_bytes(), media_type });
        Ok(())
    }

    /// Bytes the caller encoded, sent with the documented media type.
    #[allow(dead_code)]
    #[doc(hidden)]
    pub fn raw_body(&mut self, bytes: &[u8], media_type: &'static str) {
        self.body = Some(Body { bytes: bytes.to_vec(), media_type });
    }

    /// Serializes the body as JSON.
    #[doc(hidden)]
    pub fn json_body<T: Serialize>(&mut self, body: &T, media_type: &'static str) -> Result<(), Error> {
        let bytes = serde_json::to_vec(body)
            .map_err(|error| Error::invalid_input(self.operation, format!("the body does not serialize: {error}")))?;
        self.body = Some(Body { bytes, media_type });
        Ok(())
    }
}

/// `application/json;charset=UTF-8` -> `application/json`.
pub(crate) fn media_essence(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

fn is_json(essence: &str) -> bool {
    essence == "application/json" || essence.ends_with("+json")
}

/// Whether a received `Content-Type` fits the documented media type: same essence, or both JSON
/// (`application/problem+json` success bodies are parsed as their schema either way). A missing
/// header is given the benefit of the doubt.
pub(crate) fn media_matches(documented: &str, content_type: Option<&str>) -> bool {
    let Some(content_type) = content_type else { return true };
    let received = media_essence(content_type);
    received == documented || (is_json(&received) && is_json(documented))
}

/// A complete response, read by a generated method.
#[derive(Debug)]
#[doc(hidden)]
pub struct Response {
    pub(crate) context: Box<CallContext>,
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Response {
    #[doc(hidden)]
    pub fn status(&self) -> u16 {
        self.status
    }

    fn content_type(&self) -> Option<&str> {
        self.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok())
    }

    fn check_media(&self, documented: &'static str) -> Result<(), Error> {
        if media_matches(documented, self.content_type()) {
            return Ok(());
        }
        Err(Error::UnexpectedContentType {
            context: self.context.clone(),
            status: self.status,
            content_type: self.content_type().unwrap_or_default().to_string(),
            expected: documented,
            headers: Box::new(self.headers.clone()),
            body: RawBody(self.body.clone()),
        })
    }

    /// Parses a documented body; a mismatch names the field.
    #[doc(hidden)]
    pub fn decode<T: DeserializeOwned>(&self, documented: &'static str) -> Result<T, Error> {
        self.check_media(documented)?;
        // Path tracking doubles the cost of decoding; pay it only to explain a failure.
        if let Ok(value) = serde_json::from_slice(&self.body) {
            return Ok(value);
        }
        let mut deserializer = serde_json::Deserializer::from_slice(&self.body);
        serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            let path = error.path().to_string();
            let message = error.inner().to_string();
            Error::Decode {
                context: self.context.clone(),
                status: self.status,
                field: field_of(&path, &message),
                message,
                headers: Box::new(self.headers.clone()),
                body: RawBody(self.body.clone()),
            }
        })
    }

    /// The error of a documented error status with a body: checked against the documented
    /// schema `T` (a mismatch is a decode error naming the field), then kept as a [`Problem`]
    /// when it is one, else as the status error with its body.
    #[doc(hidden)]
    pub fn error_body<T: DeserializeOwned>(self, documented: &'static str) -> Error {
        if let Err(error) = self.decode::<T>(documented) {
            return error;
        }
        self.error_status(true)
    }

    /// The error of a status without a typed body: a [`Problem`] when the body is
    /// `application/problem+json` (an undocumented 404 of get payment is still a Problem), else
    /// the status error with the raw body.
    #[doc(hidden)]
    pub fn error_status(self, documented: bool) -> Error {
        let is_problem = self.content_type().is_some_and(|c| media_essence(c) == "application/problem+json");
        if is_problem && let Some(problem) = Problem::from_json(&self.body) {
            return Error::Problem {
                context: self.context,
                status: self.status,
                documented,
                headers: Box::new(self.headers),
                problem: Box::new(problem),
            };
        }
        Error::Status {
            context: self.context,
            status: self.status,
            documented,
            headers: Box::new(self.headers),
            body: RawBody(self.body),
        }
    }
}

/// The field a decode error is about: serde names a missing field in the message and points at
/// its parent, so the name is appended to the path.
fn field_of(path: &str, message: &str) -> String {
    let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
    match (path, missing) {
        (".", Some(name)) => name.to_string(),
        (path, Some(name)) => format!("{path}.{name}"),
        (path, None) => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(encode_path_segment("order-1_a.b~c"), "order-1_a.b~c");
        assert_eq!(encode_path_segment("a/b c?d#e%"), "a%2Fb%20c%3Fd%23e%25");
        assert_eq!(encode_path_segment("ø"), "%C3%B8");
    }

    #[test]
    fn form_bodies_are_form_fields_and_nested_values_are_refused() {
        static API: ApiInfo = ApiInfo { module: "m", title: "t", version: "1", servers: &[], environments: &[], system_headers: &[] };
        static OP: OperationInfo = OperationInfo {
            api: &API,
            id: "fetchToken",
            method: "POST",
            path: "/token",
            authenticated: false,
            test_only: false,
            repeatable: false,
            headers: &[],
        };
        let mut request = Request::new(&OP, "/token".into());
        request.form_body(&serde_json::json!({ "grant_type": "client_credentials", "scope": "a b" }), "application/x-www-form-urlencoded").expect("flat");
        let body = request.body.as_ref().expect("a body");
        assert_eq!(String::from_utf8_lossy(&body.bytes), "grant_type=client_credentials&scope=a+b");
        assert_eq!(body.media_type, "application/x-www-form-urlencoded");
        let nested = request.form_body(&serde_json::json!({ "a": { "b": 1 } }), "application/x-www-form-urlencoded").expect_err("nested");
        assert!(matches!(&nested, Error::InvalidInput { operation: "fetchToken", message } if message.contains("no form encoding")), "{nested:?}");
        request.raw_body(b"\x89PNG", "image/png");
        assert_eq!(request.body.as_ref().map(|b| (b.bytes.clone(), b.media_type)), Some((b"\x89PNG".to_vec(), "image/png")));
    }

    #[test]
    fn media_types_match_on_essence_and_json_family() {
        assert!(media_matches("application/json", Some("application/json; charset=UTF-8")));
        assert!(media_matches("application/problem+json", Some("application/json")));
        assert!(media_matches("application/json", Some("application/problem+json")));
        assert!(media_matches("application/json", None));
        assert!(!media_matches("application/json", Some("text/html")));
    }

    #[test]
    fn a_missing_field_is_named_with_its_path() {
        assert_eq!(field_of(".", "missing field `reference` at line 1 column 2"), "reference");
        assert_eq!(field_of("aggregate", "missing field `capturedAmount`"), "aggregate.capturedAmount");
        assert_eq!(field_of("state", "invalid type: integer `42`, expected a string"), "state");
    }
}
