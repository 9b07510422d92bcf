//! The hand-written runtime of every client vipps-codegen generates: what no document describes.
//!
//! A generated crate holds the models, one method per operation on its own `Client` (a thin
//! wrapper around this crate's [`Client`]) and its [`Glue`]: the document-specific facts (the
//! APIs and their servers, the token operation, the merchant serial number's rules). This crate
//! names no generated item; it carries credentials and configuration ([`ClientBuilder`]), the access-token cache,
//! retries ([`RetryPolicy`]), the idempotency record, polling ([`PollPolicy`]) and the one public
//! error type ([`Error`]), and the receiving end of webhooks ([`WebhookVerifier`],
//! [`Redeliveries`]). Secrets ([`Secret`]) are redacted in `Debug`, in tracing output and in
//! every error.

mod bounded;
mod clock;
mod config;
mod error;
mod glue;
mod idempotency;
mod operation;
mod polling;
mod problem;
mod retry;
mod secrets;
mod token;
mod transport;
mod webhook;

use std::sync::Arc;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{ClientBuilder, Config, Environment};
pub use error::{CallContext, Error, RawBody, TransportKind};
pub use glue::{CheckMerchantSerialNumber, FetchToken, Glue, TokenFuture, TokenGrant};
pub use idempotency::{Idempotent, IdempotentOptions};
pub use operation::{ApiInfo, CallOptions, HeaderInfo, HeaderLimit, HeaderRole, OperationInfo};
pub use polling::PollPolicy;
pub use problem::Problem;
pub use retry::RetryPolicy;
pub use secrets::Secret;
pub use token::AccessToken;
pub use webhook::{DEFAULT_WEBHOOK_WINDOW, Redeliveries, WebhookError, WebhookRequest, WebhookVerifier};

#[doc(hidden)]
pub use idempotency::new_idempotency_key;
#[doc(hidden)]
pub use operation::{Request, Response, encode_path_segment};

/// The client engine under a generated crate's `Client`. Cheap to clone (clones share the connection pool, the token cache and
/// the idempotency record); `Debug` shows no secret.
///
/// One client serves many merchants: [`Client::for_merchant`] gives a handle whose calls name
/// that merchant, sharing everything else.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
    /// The merchant of this handle's calls, over the configuration's.
    merchant: Option<Arc<str>>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    http: reqwest::Client,
    tokens: token::TokenCache,
    idempotency: idempotency::IdempotencyRecord,
}

impl Client {
    fn from_config(config: Config) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .user_agent(config.glue.user_agent)
            .build()
            .map_err(|error| Error::Config { message: format!("HTTP client: {error}") })?;
        let tokens = token::TokenCache::new(config.token_refresh_margin, config.clock.clone(), config.access_token.clone());
        let idempotency = idempotency::IdempotencyRecord::new(config.idempotency_record);
        Ok(Self { inner: Arc::new(Inner { config, http, tokens, idempotency }), merchant: None })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// A handle whose calls are made for the merchant `msn` (a partner serving many merchants
    /// with one set of keys). It shares the connection pool, the token cache (tokens are cached
    /// per merchant), the idempotency record and the configuration with `self`; a call's own
    /// [`CallOptions::merchant_serial_number`] still wins.
    pub fn for_merchant(&self, msn: impl Into<String>) -> Result<Client, Error> {
        let msn = msn.into();
        config::check_merchant_serial_number(self.inner.config.glue, &msn).map_err(|message| Error::Config { message })?;
        Ok(Self { inner: self.inner.clone(), merchant: Some(msn.into()) })
    }

    /// The merchant serial number this handle's calls send, unless a call names its own.
    pub fn merchant_serial_number(&self) -> Option<&str> {
        self.merchant.as_deref().or(self.inner.config.merchant_serial_number.as_deref())
    }

    /// The merchant of one call: its options', else this handle's, else the configuration's.
    pub(crate) fn merchant_for<'a>(&'a self, options: &'a CallOptions) -> Option<&'a str> {
        options.merchant_serial_number.as_deref().or_else(|| self.merchant_serial_number())
    }

    /// A valid access token for this handle's merchant: the cached one, or a fresh one from the
    /// access-token operation.
    pub async fn access_token(&self) -> Result<AccessToken, Error> {
        self.inner.tokens.get(self, self.merchant_serial_number()).await.map(|token| (*token).clone())
    }
}
