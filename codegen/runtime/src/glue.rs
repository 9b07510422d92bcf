//! What a generated crate tells the runtime about its documents. The generator emits one
//! [`Glue`] per crate, from the settings and the documents (`<crate>::generated::GLUE`), and
//! hands it to [`ClientBuilder::new`](super::ClientBuilder::new); the runtime reads everything
//! document-specific from it and names no generated item itself.

use std::future::Future;
use std::pin::Pin;

use super::Client;
use super::error::Error;
use super::operation::{ApiInfo, CallOptions};

/// The document-specific facts of one generated crate.
#[derive(Debug)]
pub struct Glue {
    /// The `User-Agent` of every request: the generated crate's name and version.
    pub user_agent: &'static str,
    /// Every API the client calls: servers by environment, system headers and their limits.
    pub apis: &'static [&'static ApiInfo],
    /// Checks a merchant serial number against the documents' rules for it (the generated type
    /// of the merchant-serial-number header); None when no document constrains it.
    pub check_merchant_serial_number: Option<CheckMerchantSerialNumber>,
    /// Calls the documents' access-token operation (settings `client.token_operation`); None
    /// when the crate has none, and then an authenticated call is a configuration error.
    pub fetch_token: Option<FetchToken>,
    /// Whether an operation sends the subscription key (then the builder requires one).
    pub uses_subscription_key: bool,
}

/// Checks a merchant serial number; the message says which rule it breaks.
pub type CheckMerchantSerialNumber = fn(&str) -> Result<(), String>;

/// Fetches an access token for the merchant the options name.
pub type FetchToken = for<'a> fn(&'a Client, CallOptions) -> TokenFuture<'a>;

/// The future of a [`FetchToken`]. Boxed: the token operation goes through the same pipeline
/// that asks the token cache for tokens, and an async call cycle needs one indirection.
pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<TokenGrant, Error>> + Send + 'a>>;

/// What the token operation answered, as the token cache reads it. `Debug` hides the token.
#[derive(Clone)]
pub struct TokenGrant {
    /// The token operation's `operationId` (named in an error about the answer).
    pub operation: &'static str,
    /// The token.
    pub access_token: String,
    /// Seconds from now, as the answer spells it.
    pub expires_in: Option<String>,
    /// Unix time, as the answer spells it.
    pub expires_on: Option<String>,
}

impl std::fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenGrant")
            .field("operation", &self.operation)
            .field("access_token", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .field("expires_on", &self.expires_on)
            .finish()
    }
}
