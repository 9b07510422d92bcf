//! Client configuration and its builder: environment (from the specs' `servers`, or any base
//! URL), credentials, merchant serial number, system headers (checked against the specs'
//! limits), timeouts, retry and polling policies, and the clock.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::clock::{Clock, SystemClock};
use super::error::Error;
use super::glue::Glue;
use super::operation::ApiInfo;
use super::polling::PollPolicy;
use super::retry::RetryPolicy;
use super::secrets::Secret;

/// Environment names as the codegen settings (`client.environments`) spell them.
const PRODUCTION: &str = "production";
const TEST: &str = "test";

/// Where the client sends its requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Environment {
    /// The test environment (the specs' test servers).
    Test,
    /// The production environment (the specs' production servers); test-only operations are
    /// refused.
    Production,
    /// Any base URL, such as a simulator's. Its origin (scheme, host, port) stands in for the
    /// origin of each API's production server, whose path is kept: with ePayment's documents,
    /// ePayment calls go to `<base>/epayment/v1/...`, the token call to `<base>/accesstoken/get`.
    Custom {
        /// `scheme://host[:port]`, optionally with a path prefix.
        base_url: String,
        /// Whether it reaches production (test-only operations are then refused). A client
        /// built on a production server's origin counts as production whatever this says.
        production: bool,
    },
}

impl Environment {
    /// A custom base URL. It counts as production when it is marked so, or when the client is
    /// built on the origin of one of its APIs' production servers.
    pub fn custom(base_url: impl Into<String>) -> Self {
        Environment::Custom { base_url: base_url.into(), production: false }
    }

    /// This environment with a custom URL marked production when its origin is the origin of
    /// one of `apis`' production servers.
    fn resolve(self, apis: &[&ApiInfo]) -> Self {
        match self {
            Environment::Custom { base_url, production } => {
                let on_production = apis
                    .iter()
                    .filter_map(|api| api.server(PRODUCTION))
                    .any(|server| origin(server).eq_ignore_ascii_case(origin(&base_url)));
                Environment::Custom { base_url, production: production || on_production }
            }
            other => other,
        }
    }

    /// Whether test-only operations are refused.
    pub fn is_production(&self) -> bool {
        match self {
            Environment::Test => false,
            Environment::Production => true,
            Environment::Custom { production, .. } => *production,
        }
    }

    /// The base URL of one API in this environment.
    pub(crate) fn base_url(&self, api: &ApiInfo) -> Result<String, Error> {
        let named = |name: &str| {
            api.server(name).map(str::to_string).ok_or_else(|| Error::Config {
                message: format!("the {} spec has no `{name}` server", api.module),
            })
        };
        match self {
            Environment::Test => named(TEST),
            Environment::Production => named(PRODUCTION),
            Environment::Custom { base_url, .. } => {
                let server = api.server(PRODUCTION).or_else(|| api.servers.first().copied()).unwrap_or("");
                let path = &server[origin(server).len()..];
                if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
                    return Err(Error::Config { message: format!("base URL {base_url:?} is not http(s)") });
                }
                Ok(format!("{}{}", base_url.trim_end_matches('/'), path.trim_end_matches('/')))
            }
        }
    }
}

/// `https://host:port/path` -> `https://host:port`.
fn origin(url: &str) -> &str {
    let start = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[start..].find('/') {
        Some(slash) => &url[..start + slash],
        None => url,
    }
}

/// The configuration a client was built with. `Debug` shows no secret.
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) glue: &'static Glue,
    pub(crate) environment: Environment,
    pub(crate) base_urls: BTreeMap<&'static str, String>,
    pub(crate) client_id: String,
    pub(crate) client_secret: Secret,
    pub(crate) access_token: Option<Secret>,
    pub(crate) subscription_key: Secret,
    pub(crate) merchant_serial_number: Option<String>,
    pub(crate) system_headers: Vec<(String, String)>,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) token_refresh_margin: Duration,
    pub(crate) poll: PollPolicy,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) idempotency_record: usize,
}

impl Config {
    /// The environment.
    pub fn environment(&self) -> &Environment {
        &self.environment
    }

    /// The base URL used for each generated API module.
    pub fn base_urls(&self) -> &BTreeMap<&'static str, String> {
        &self.base_urls
    }

    /// The client id (not a secret: it names the client).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The merchant serial number set on the builder (None for a partner client whose calls
    /// each name their merchant).
    pub fn merchant_serial_number(&self) -> Option<&str> {
        self.merchant_serial_number.as_deref()
    }

    /// The system headers set for every call that declares them.
    pub fn system_headers(&self) -> &[(String, String)] {
        &self.system_headers
    }

    /// Connect timeout of one attempt.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// Total timeout of one attempt (connect, send, whole response).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The polling policy.
    pub fn poll_policy(&self) -> &PollPolicy {
        &self.poll
    }
}

/// Builds a client: a generated crate's `Client::builder()` starts one with the crate's
/// [`Glue`], and [`build`](Self::build) hands the runtime's [`Client`](super::Client) to `wrap`
/// (the generated client around it).
#[derive(Debug, Clone)]
pub struct ClientBuilder<C = super::Client> {
    glue: &'static Glue,
    wrap: fn(super::Client) -> C,
    environment: Environment,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    access_token: Option<Secret>,
    subscription_key: Option<Secret>,
    merchant_serial_number: Option<String>,
    system_headers: Vec<(String, String)>,
    connect_timeout: Duration,
    timeout: Duration,
    retry: RetryPolicy,
    token_refresh_margin: Duration,
    poll: PollPolicy,
    clock: Arc<dyn Clock>,
    idempotency_record: usize,
}

impl<C> ClientBuilder<C> {
    /// A builder of the client of `glue`'s APIs, with the defaults; `wrap` makes the finished
    /// client (a generated crate passes its `Client` constructor).
    pub fn new(glue: &'static Glue, wrap: fn(super::Client) -> C) -> Self {
        Self {
            glue,
            wrap,
            environment: Environment::Test,
            client_id: None,
            client_secret: None,
            access_token: None,
            subscription_key: None,
            merchant_serial_number: None,
            system_headers: Vec::new(),
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            token_refresh_margin: Duration::from_secs(300),
            poll: PollPolicy::default(),
            clock: Arc::new(SystemClock),
            idempotency_record: 10_000,
        }
    }

    /// The environment (default: [`Environment::Test`]).
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
        self
    }

    /// Any base URL, such as a simulator's: [`Environment::custom`].
    pub fn base_url(self, base_url: impl Into<String>) -> Self {
        self.environment(Environment::custom(base_url))
    }

    /// The client id (required when the crate has a token operation and no token is given).
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// An access token obtained elsewhere, sent as `Bearer <token>` by every authenticated call
    /// instead of one fetched with the crate's token operation (for documents whose token comes
    /// from another API). The caller renews it: a 401 is then the call's error.
    pub fn access_token(mut self, token: impl Into<Secret>) -> Self {
        self.access_token = Some(token.into());
        self
    }

    /// The client secret (required when the crate has a token operation and no token is given).
    pub fn client_secret(mut self, client_secret: impl Into<Secret>) -> Self {
        self.client_secret = Some(client_secret.into());
        self
    }

    /// The subscription key (required when an operation of the crate sends it).
    pub fn subscription_key(mut self, subscription_key: impl Into<Secret>) -> Self {
        self.subscription_key = Some(subscription_key.into());
        self
    }

    /// The merchant serial number (4 to 10 digits) of every call that does not name its own
    /// ([`Client::for_merchant`](super::Client::for_merchant),
    /// [`CallOptions::merchant_serial_number`](super::CallOptions::merchant_serial_number)).
    /// Optional: a partner serving many merchants leaves it unset, and a call that needs one
    /// and has none is refused before sending.
    pub fn merchant_serial_number(mut self, msn: impl Into<String>) -> Self {
        self.merchant_serial_number = Some(msn.into());
        self
    }

    /// A system header (`Vipps-System-*`), sent on every call that declares it; unset ones are
    /// not sent. Checked against the specs' limits by [`build`](Self::build).
    pub fn system_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.system_headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(&name));
        self.system_headers.push((name, value.into()));
        self
    }

    /// `Vipps-System-Name`: the e-commerce platform.
    pub fn system_name(self, value: impl Into<String>) -> Self {
        self.system_header("Vipps-System-Name", value)
    }

    /// `Vipps-System-Version`: the platform's version.
    pub fn system_version(self, value: impl Into<String>) -> Self {
        self.system_header("Vipps-System-Version", value)
    }

    /// `Vipps-System-Plugin-Name`: the plugin in use.
    pub fn plugin_name(self, value: impl Into<String>) -> Self {
        self.system_header("Vipps-System-Plugin-Name", value)
    }

    /// `Vipps-System-Plugin-Version`: the plugin's version.
    pub fn plugin_version(self, value: impl Into<String>) -> Self {
        self.system_header("Vipps-System-Plugin-Version", value)
    }

    /// Connect timeout of one attempt (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Total timeout of one attempt, response body included (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// How long before expiry the token is renewed (default 5 minutes; at most half the
    /// token's lifetime).
    pub fn token_refresh_margin(mut self, margin: Duration) -> Self {
        self.token_refresh_margin = margin;
        self
    }

    /// The polling cadence of the SDK's waits (default: the documented one).
    pub fn poll_policy(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    /// The clock the token cache reads (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How many sent idempotency keys are remembered to refuse a reuse with another request
    /// (default 10 000; 0 turns the check off).
    pub fn idempotency_record_capacity(mut self, capacity: usize) -> Self {
        self.idempotency_record = capacity;
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<C, Error> {
        let glue = self.glue;
        // Credentials are required where the crate's documents use them: client id and secret
        // for the token operation (unless a token is given), the subscription key where an
        // operation sends it.
        let access_token = self.access_token.filter(|v| !v.is_empty());
        if let Some(token) = &access_token
            && reqwest::header::HeaderValue::from_str(&format!("Bearer {}", token.expose())).is_err()
        {
            return Err(Error::Config { message: "access token: not a valid header value (control characters or non-ASCII)".into() });
        }
        let fetches_tokens = glue.fetch_token.is_some() && access_token.is_none();
        let client_id = credential(self.client_id.filter(|v| !v.is_empty()), fetches_tokens, "client id")?.unwrap_or_default();
        let client_secret = credential(self.client_secret.filter(|v| !v.is_empty()), fetches_tokens, "client secret")?.unwrap_or_else(|| Secret::new(""));
        let subscription_key =
            credential(self.subscription_key.filter(|v| !v.is_empty()), glue.uses_subscription_key, "subscription key")?.unwrap_or_else(|| Secret::new(""));
        let merchant_serial_number = self.merchant_serial_number;
        if let Some(msn) = &merchant_serial_number {
            check_merchant_serial_number(glue, msn).map_err(|message| Error::Config { message })?;
        }
        for (name, value) in &self.system_headers {
            check_system_header(glue, name, value).map_err(|message| Error::Config { message })?;
        }
        if self.retry.max_attempts == 0 {
            return Err(Error::Config { message: "retry policy: max_attempts must be at least 1".into() });
        }
        let environment = self.environment.resolve(glue.apis);
        let mut base_urls = BTreeMap::new();
        for api in glue.apis {
            base_urls.insert(api.module, environment.base_url(api)?);
        }
        let config = Config {
            glue,
            environment,
            base_urls,
            client_id,
            client_secret,
            access_token,
            subscription_key,
            merchant_serial_number,
            system_headers: self.system_headers,
            connect_timeout: self.connect_timeout,
            timeout: self.timeout,
            retry: self.retry,
            token_refresh_margin: self.token_refresh_margin,
            poll: self.poll,
            clock: self.clock,
            idempotency_record: self.idempotency_record,
        };
        super::Client::from_config(config).map(self.wrap)
    }
}

/// A credential from the builder (empty ones already dropped): refused when `needed` and unset.
fn credential<T>(value: Option<T>, needed: bool, what: &str) -> Result<Option<T>, Error> {
    match value {
        None if needed => Err(Error::Config { message: format!("{what} is required") }),
        value => Ok(value),
    }
}

/// Checks a merchant serial number against the documents' rules for it; a header value it must
/// be in any case.
pub(crate) fn check_merchant_serial_number(glue: &Glue, msn: &str) -> Result<(), String> {
    if let Some(check) = glue.check_merchant_serial_number {
        check(msn).map_err(|error| format!("merchant serial number: {error}"))?;
    }
    if msn.is_empty() || reqwest::header::HeaderValue::from_str(msn).is_err() {
        return Err(format!("merchant serial number {msn:?} is not a valid header value"));
    }
    Ok(())
}

/// Checks a system header against every limit the documents declare for it.
pub(crate) fn check_system_header(glue: &Glue, name: &str, value: &str) -> Result<(), String> {
    let limits: Vec<_> = glue.apis.iter().flat_map(|api| api.system_headers).filter(|h| h.name.eq_ignore_ascii_case(name)).collect();
    if limits.is_empty() {
        return Err(format!("{name} is not a system header of any spec"));
    }
    let length = value.chars().count();
    if let Some(max) = limits.iter().filter_map(|h| h.max_length).min()
        && length > max
    {
        return Err(format!("{name} is {length} characters, above the spec's maxLength {max}"));
    }
    if reqwest::header::HeaderValue::from_str(value).is_err() {
        return Err(format!("{name} is not a valid header value"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::HeaderLimit;

    static PAYMENTS: ApiInfo = ApiInfo {
        module: "payments",
        title: "Payments",
        version: "1",
        servers: &["https://api.example.com/payments", "https://test.example.com/payments"],
        environments: &[("production", "https://api.example.com/payments"), ("test", "https://test.example.com/payments")],
        system_headers: &[HeaderLimit { name: "Vipps-System-Name", max_length: Some(30) }],
    };
    static TOKEN: ApiInfo = ApiInfo {
        module: "token",
        title: "Token",
        version: "1",
        servers: &["https://api.example.com", "https://test.example.com"],
        environments: &[("production", "https://api.example.com"), ("test", "https://test.example.com")],
        system_headers: &[],
    };
    static GLUE: Glue = Glue {
        user_agent: "test/1",
        apis: &[&PAYMENTS, &TOKEN],
        check_merchant_serial_number: Some(four_digits),
        fetch_token: None,
        uses_subscription_key: true,
    };

    fn four_digits(value: &str) -> Result<(), String> {
        if value.len() == 4 && value.bytes().all(|b| b.is_ascii_digit()) { Ok(()) } else { Err("not 4 digits".into()) }
    }

    fn builder() -> ClientBuilder {
        ClientBuilder::new(&GLUE, |client| client).client_id("id").client_secret("secret").subscription_key("key")
    }

    #[test]
    fn environments_come_from_the_specs_servers() {
        assert_eq!(Environment::Test.base_url(&PAYMENTS).ok().as_deref(), Some("https://test.example.com/payments"));
        assert_eq!(Environment::Production.base_url(&TOKEN).ok().as_deref(), Some("https://api.example.com"));
        let client = builder().environment(Environment::Production).build().expect("valid configuration");
        assert_eq!(client.config().base_urls().get("payments").map(String::as_str), Some("https://api.example.com/payments"));
    }

    #[test]
    fn a_custom_base_url_keeps_each_servers_path() {
        let custom = Environment::custom("http://127.0.0.1:8080/");
        assert!(!custom.is_production());
        assert_eq!(custom.base_url(&PAYMENTS).ok().as_deref(), Some("http://127.0.0.1:8080/payments"));
        assert_eq!(custom.base_url(&TOKEN).ok().as_deref(), Some("http://127.0.0.1:8080"));
    }

    #[test]
    fn a_custom_url_on_a_production_origin_counts_as_production() {
        let on = |url: &str| builder().base_url(url).build().expect("valid configuration").config().environment().is_production();
        assert!(on("https://api.example.com"));
        assert!(on("https://API.example.com/"));
        assert!(!on("https://test.example.com"));
        assert!(!on("http://127.0.0.1:8080"));
    }

    #[test]
    fn system_headers_are_checked_against_the_spec_limits() {
        assert!(check_system_header(&GLUE, "Vipps-System-Name", "shopwave").is_ok());
        let long = "x".repeat(31);
        let error = check_system_header(&GLUE, "vipps-system-name", &long).expect_err("31 > 30");
        assert!(error.contains("maxLength 30"), "{error}");
        assert!(check_system_header(&GLUE, "Vipps-System-Colour", "red").is_err());
    }

    #[test]
    fn a_merchant_serial_number_is_checked_by_the_glue_and_as_a_header_value() {
        assert_eq!(check_merchant_serial_number(&GLUE, "1234"), Ok(()));
        assert_eq!(check_merchant_serial_number(&GLUE, "12a4"), Err("merchant serial number: not 4 digits".to_string()));
        let unchecked = Glue { user_agent: "test/1", apis: &[], check_merchant_serial_number: None, fetch_token: None, uses_subscription_key: false };
        assert_eq!(check_merchant_serial_number(&unchecked, "any"), Ok(()));
        assert!(check_merchant_serial_number(&unchecked, "").is_err());
        assert!(check_merchant_serial_number(&unchecked, "a\nb").is_err());
    }
}
