//! The pipeline every generated method goes through: refusals before sending (test-only
//! operation in production, bad per-call system header, idempotency key reused), the headers the
//! runtime fills, the access token, attempts with retries, and one tracing span per call with
//! operation, reference, attempt and status. Nothing secret is recorded or kept in errors.

use std::time::Instant;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use tracing::Instrument;

use super::Client;
use super::config::{check_merchant_serial_number, check_system_header};
use super::error::{CallContext, Error, TransportKind};
use super::idempotency::{KeyScope, fingerprint};
use super::operation::{CallOptions, HeaderRole, OperationInfo, Request, Response};
use super::retry::{parse_retry_after, retryable_status};

/// The outcome of one attempt.
enum Attempt {
    Response { status: u16, headers: HeaderMap, body: Vec<u8> },
    Failed { kind: TransportKind, message: String },
}

impl Client {
    /// Sends a request built by a generated method and returns the complete response (any
    /// status); the generated method matches it against the documented statuses.
    #[doc(hidden)]
    pub async fn execute(&self, request: Request, options: &CallOptions) -> Result<Response, Error> {
        let span = tracing::info_span!(
            "vipps_call",
            operation = request.operation.id,
            reference = tracing::field::Empty,
            attempt = tracing::field::Empty,
            status = tracing::field::Empty,
        );
        if let Some(reference) = &request.reference {
            span.record("reference", reference.as_str());
        }
        self.execute_in_span(request, options).instrument(span).await
    }

    async fn execute_in_span(&self, request: Request, options: &CallOptions) -> Result<Response, Error> {
        let operation = request.operation;
        let config = self.config();
        if operation.test_only && config.environment.is_production() {
            tracing::warn!("refused: test-environment-only operation on a production client");
            return Err(Error::TestOnlyOperation { operation: operation.id });
        }
        let headers = self.filled_headers(&request, options)?;
        let merchant = self.merchant_for(options);
        let body = request.body.as_ref();
        if let Some(key) = &request.idempotency_key {
            let scope = KeyScope { merchant, operation: operation.id, path: &request.path, key };
            if !self.inner.idempotency.admit(&scope, fingerprint(body.map(|b| b.bytes.as_slice()))) {
                tracing::warn!("refused: idempotency key already sent with another request");
                return Err(Error::IdempotencyKeyReused { operation: operation.id, key: key.clone() });
            }
        }
        let url = self.url(&request)?;
        // A credential in the query is in the URL, which reqwest's errors show.
        let hide_url = request.credential_in_query();
        let method = Method::from_bytes(operation.method.as_bytes())
            .map_err(|_| Error::invalid_input(operation, format!("{} is not an HTTP method", operation.method)))?;
        // Only requests that cannot repeat an effect are retried (rule I8): repeatable ones (the
        // token call included, so one 503 from it does not fail the call that needed the token)
        // and those carrying an idempotency key.
        let safe = operation.repeatable || request.idempotency_key.is_some();
        let mut context = CallContext {
            operation: operation.id,
            reference: request.reference.clone(),
            idempotency_key: request.idempotency_key.clone(),
            attempts: 0,
        };
        let started = Instant::now();
        let mut retries = 0;
        let mut token_renewed = false;
        loop {
            context.attempts += 1;
            tracing::Span::current().record("attempt", context.attempts);
            let token = if operation.authenticated {
                let token = self.inner.tokens.get(self, merchant).await.map_err(|source| Error::Authentication {
                    context: Box::new(context.clone()),
                    source: Box::new(source),
                })?;
                Some(token)
            } else {
                None
            };
            let mut builder = self.inner.http.request(method.clone(), url.clone()).headers(headers.clone());
            if let Some(value) = token.as_ref().and_then(|t| t.header_value()) {
                builder = builder.header(AUTHORIZATION, value);
            }
            match body {
                Some(body) => builder = builder.header(CONTENT_TYPE, body.media_type).body(body.bytes.clone()),
                // RFC 9110: a request whose method gives content a meaning says it has none.
                None if method == Method::POST || method == Method::PUT || method == Method::PATCH => {
                    builder = builder.header(CONTENT_LENGTH, "0");
                }
                None => {}
            }
            let attempt = match builder.send().await {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    let headers = std::mem::take(response.headers_mut());
                    match response.bytes().await {
                        Ok(bytes) => Attempt::Response { status, headers, body: Vec::from(bytes) },
                        Err(error) => failed(error, hide_url),
                    }
                }
                Err(error) => failed(error, hide_url),
            };
            match attempt {
                Attempt::Response { status, headers, body } => {
                    tracing::Span::current().record("status", status);
                    if status == 401 && !token_renewed && !self.inner.tokens.is_fixed() && let Some(token) = &token {
                        // Refreshed once after a 401: the token may have been revoked early.
                        tracing::info!("401: renewing the access token");
                        token_renewed = true;
                        self.inner.tokens.invalidate(merchant, token);
                        continue;
                    }
                    if safe && retryable_status(status) {
                        let retry_after = headers
                            .get(reqwest::header::RETRY_AFTER)
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| parse_retry_after(v, config.clock.now()));
                        if let Some(delay) = config.retry.delay(retries + 1, started.elapsed(), retry_after) {
                            retries += 1;
                            tracing::info!(status, delay_ms = delay.as_millis() as u64, "retrying");
                            tokio::time::sleep(delay).await;
                            continue;
                        }
                    }
                    tracing::debug!(status, "response");
                    return Ok(Response { context: Box::new(context), status, headers, body });
                }
                Attempt::Failed { kind, message } => {
                    if safe && let Some(delay) = config.retry.delay(retries + 1, started.elapsed(), None) {
                        retries += 1;
                        tracing::info!(error = %kind, delay_ms = delay.as_millis() as u64, "retrying");
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    tracing::warn!(error = %kind, "no response");
                    return Err(Error::Transport { context: Box::new(context), kind, message });
                }
            }
        }
    }

    /// The headers the runtime fills from configuration and per-call options, plus the plain
    /// header parameters of the request. Never the token: that is added per attempt.
    ///
    /// A per-call setting the operation has no header for is refused, not dropped: the caller
    /// meant it to be sent.
    fn filled_headers(&self, request: &Request, options: &CallOptions) -> Result<HeaderMap, Error> {
        let operation = request.operation;
        let config = self.config();
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json, application/problem+json"));
        let declares = |role: HeaderRole, name: Option<&str>| {
            operation.headers.iter().any(|h| h.role == role && name.is_none_or(|name| h.name.eq_ignore_ascii_case(name)))
        };
        for (name, value) in &options.system_headers {
            if !declares(HeaderRole::System, Some(name)) {
                return Err(Error::invalid_input(operation, format!("{name} is not a header of {}; it would not be sent", operation.id)));
            }
            check_system_header(config.glue, name, value).map_err(|message| Error::invalid_input(operation, message))?;
        }
        if let Some(msn) = &options.merchant_serial_number {
            // The token is per merchant, so an authenticated call uses it even without the header.
            if !declares(HeaderRole::MerchantSerialNumber, None) && !operation.authenticated {
                return Err(Error::invalid_input(
                    operation,
                    format!("{} takes no merchant serial number; it would not be sent", operation.id),
                ));
            }
            check_merchant_serial_number(config.glue, msn).map_err(|message| Error::invalid_input(operation, message))?;
        }
        let merchant = self.merchant_for(options);
        for header in operation.headers {
            let value = match header.role {
                HeaderRole::SubscriptionKey => Some((config.subscription_key.expose().to_string(), true)),
                HeaderRole::ClientId => Some((config.client_id.clone(), false)),
                HeaderRole::ClientSecret => Some((config.client_secret.expose().to_string(), true)),
                HeaderRole::MerchantSerialNumber => match merchant {
                    Some(msn) => Some((msn.to_string(), false)),
                    None if header.required => {
                        return Err(Error::invalid_input(
                            operation,
                            format!(
                                "{} needs the {} header: set it on the builder, with Client::for_merchant, or in CallOptions",
                                operation.id, header.name
                            ),
                        ));
                    }
                    None => None,
                },
                HeaderRole::IdempotencyKey => request.idempotency_key.clone().map(|key| (key, false)),
                HeaderRole::System => options
                    .system_headers
                    .iter()
                    .chain(&config.system_headers)
                    .find(|(name, _)| name.eq_ignore_ascii_case(header.name))
                    .map(|(_, value)| (value.clone(), false)),
                // The token is added per attempt; plain headers are the request's own.
                HeaderRole::Authorization | HeaderRole::Plain => None,
            };
            if let Some((value, sensitive)) = value {
                insert(&mut headers, operation, header.name, &value, sensitive)?;
            }
        }
        for (name, value) in &request.headers {
            insert(&mut headers, operation, name, value, request.credentials.contains(name))?;
        }
        if !request.cookies.is_empty() {
            let cookie = request.cookies.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("; ");
            let sensitive = request.cookies.iter().any(|(name, _)| request.credentials.contains(name));
            insert(&mut headers, operation, COOKIE.as_str(), &cookie, sensitive)?;
        }
        Ok(headers)
    }

    fn url(&self, request: &Request) -> Result<Url, Error> {
        let operation = request.operation;
        let base = self.config().base_urls.get(operation.api.module).ok_or_else(|| Error::Config {
            message: format!("no base URL for {}", operation.api.module),
        })?;
        let mut url = Url::parse(&format!("{base}{}", request.path))
            .map_err(|error| Error::invalid_input(operation, format!("the URL does not parse: {error}")))?;
        if !request.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in &request.query {
                pairs.append_pair(name, value);
            }
        }
        Ok(url)
    }
}

fn insert(headers: &mut HeaderMap, operation: &OperationInfo, name: &str, value: &str, sensitive: bool) -> Result<(), Error> {
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| Error::invalid_input(operation, format!("{name} is not a valid header name")))?;
    let mut value = HeaderValue::from_str(value)
        .map_err(|_| Error::invalid_input(operation, format!("the value of {name} is not a valid header value")))?;
    value.set_sensitive(sensitive);
    headers.insert(name, value);
    Ok(())
}

/// Classifies a transport error; the message is reqwest's, which names the URL, never a header.
fn failed(error: reqwest::Error, hide_url: bool) -> Attempt {
    let error = if hide_url { error.without_url() } else { error };
    let error = &error;
    let kind = if error.is_timeout() {
        TransportKind::Timeout
    } else if error.is_connect() {
        TransportKind::Connect
    } else {
        TransportKind::Connection
    };
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Attempt::Failed { kind, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn refused(url: &str) -> reqwest::Error {
        // Loopback, port 9 (discard): nothing listens, so the connection is refused at once.
        reqwest::Client::new().get(url).send().await.expect_err("nothing listens on 127.0.0.1:9")
    }

    #[tokio::test]
    async fn a_credential_in_the_query_stays_out_of_transport_errors() {
        let url = "http://127.0.0.1:9/things?key=hunter2";
        let Attempt::Failed { message, kind } = failed(refused(url).await, true) else { panic!("a failure") };
        assert_eq!(kind, TransportKind::Connect);
        assert!(!message.contains("hunter2"), "{message}");
        let Attempt::Failed { message, .. } = failed(refused(url).await, false) else { panic!("a failure") };
        assert!(message.contains("hunter2"), "without a credential the URL helps: {message}");
    }
}
