//! The one adapter between the rule tests and the simulator.
//!
//! Every call a merchant can make (access token, create, get, event log, capture, refund,
//! cancel, force approve) goes through the generated client, [`vipps_epayment::Client`], built
//! with test settings by [`client_builder`]: the simulator's base URL as a custom environment,
//! no retries unless a test asks for them ([`fast_retries`]), a fast poll policy and short
//! timeouts. [`Api`] wraps one such client for one merchant and adds typed shortcuts; the
//! [`Outcome`] trait reads a refused call's status, Problem body and headers from the client's
//! [`Error`].
//!
//! A raw HTTP path ([`Api::raw`] and friends) remains only for what the typed client cannot
//! express by design; see [`Api::raw`].
#![allow(dead_code)]

use std::time::Duration;

use chrono::{TimeZone, Utc};
use reqwest::Method;
use serde::de::DeserializeOwned;
use vipps_contract_tests::sim::{Clock, ControlError, RateLimits, RunningSimulator, Simulator, SimulatorBuilder};
use vipps_epayment::epayment::{
    Amount, AmountValue, CancelModificationRequest, CaptureModificationRequest,
    CreatePaymentRequest, CreatePaymentRequestReturnUrl, CreatePaymentRequestUserFlow,
    CreatePaymentResponse, Currency, ForceApprove, GetPaymentResponse, IdempotencyKey,
    ModificationResponse, PaymentEvent, PaymentMethod, PaymentMethodType, Problem, Reference,
    RefundModificationRequest,
};
use vipps_epayment::runtime::{PollPolicy, RetryPolicy};
use vipps_epayment::{CallOptions, Client, ClientBuilder, Environment, Error, Idempotent, IdempotentOptions};

/// The merchant serial number the tests act as.
pub const MSN: &str = "123456";
/// The subscription key the tests use.
pub const SUBSCRIPTION_KEY: &str = "test-subscription-key";
/// The client id the tests use.
pub const CLIENT_ID: &str = "client-1";
/// The client secret the tests use.
pub const CLIENT_SECRET: &str = "secret-1";

/// A builder with a frozen clock (2025-01-01T12:00:00Z) and no rate limits.
pub fn test_builder() -> SimulatorBuilder {
    Simulator::builder()
        .clock(Clock::fixed(Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap()))
        .rate_limits(RateLimits::off())
}

/// A simulator with [`test_builder`]'s settings.
pub async fn start() -> RunningSimulator {
    test_builder().start().await.expect("simulator starts")
}

/// Retries on, fast: 4 attempts, 10 ms backoff doubling to 50 ms, `Retry-After` honoured up to
/// 2 s, 5 s in all.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        max_elapsed: Duration::from_secs(5),
        max_retry_after: Duration::from_secs(2),
    }
}

/// Polling for tests: at once, then every 10 ms, for at most 2 s.
pub fn fast_poll() -> PollPolicy {
    PollPolicy {
        initial_delay: Duration::ZERO,
        interval: Duration::from_millis(10),
        timeout: Duration::from_secs(2),
    }
}

/// A generated-client builder for the simulator at `base` acting as `msn`, with test settings:
/// custom environment, [`CLIENT_ID`] / [`CLIENT_SECRET`], no retries (so a single 423, 429 or
/// 503 is seen as it is), [`fast_poll`], 10 s timeouts.
pub fn client_builder(base: &str, msn: &str, subscription_key: &str) -> ClientBuilder {
    Client::builder()
        .environment(Environment::custom(base))
        .client_id(CLIENT_ID)
        .client_secret(CLIENT_SECRET)
        .subscription_key(subscription_key.to_string())
        .merchant_serial_number(msn)
        .retry_policy(RetryPolicy::none())
        .poll_policy(fast_poll())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
}

/// `value` minor units of `currency`.
pub fn money(currency: Currency, value: i64) -> Amount {
    Amount::new(currency, AmountValue::new(value).expect("amount in range"))
}

/// `value` øre.
pub fn nok(value: i64) -> Amount {
    money(Currency::Nok, value)
}

/// A valid reference.
pub fn reference(text: &str) -> Reference {
    Reference::new(text).unwrap_or_else(|error| panic!("reference {text:?}: {error}"))
}

/// A valid idempotency key.
pub fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::new(text).unwrap_or_else(|error| panic!("idempotency key {text:?}: {error}"))
}

/// A WALLET payment by web redirect of `value` NOK øre.
pub fn payment_request(reference: &str, value: i64) -> CreatePaymentRequest {
    let mut request = CreatePaymentRequest::new(
        nok(value),
        PaymentMethod::new(PaymentMethodType::Wallet),
        self::reference(reference),
        CreatePaymentRequestUserFlow::WebRedirect,
    );
    request.return_url = Some(CreatePaymentRequestReturnUrl::new("https://shop.example.org/done").unwrap());
    request
}

/// The JSON of a valid create request, for raw tests that break it on purpose.
pub fn payment_json(reference: &str, value: i64) -> serde_json::Value {
    serde_json::to_value(payment_request(reference, value)).unwrap()
}

/// createPayment's result with its key.
pub type Created = Idempotent<CreatePaymentResponse, IdempotencyKey>;
/// capturePayment's / refundPayment's result with its key.
pub type Modified = Idempotent<ModificationResponse, IdempotencyKey>;

/// A Problem the simulator answers with: the status, the last segment of its `type`
/// (`urn:epayment-sim:problem:<kind>`) and its `title`. Pinned here, apart from the simulator's
/// code, so a test names exactly which refusal it expects: an S6 refusal does not pass for an S7
/// one, nor for an idempotency conflict (I4) or a reused reference (I5), though all are 409.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// HTTP status.
    pub status: u16,
    /// Last segment of the Problem `type`.
    pub kind: &'static str,
    /// The Problem `title`.
    pub title: &'static str,
}

impl Kind {
    /// The full Problem `type`.
    pub fn type_uri(&self) -> String {
        format!("urn:epayment-sim:problem:{}", self.kind)
    }
}

/// Every Problem the simulator answers with (rulebook outcomes table; README "Behaviour").
pub mod kinds {
    use super::Kind;

    const fn kind(status: u16, kind: &'static str, title: &'static str) -> Kind {
        Kind { status, kind, title }
    }

    /// 400: the request breaks the spec or a request-shape rule (S10-S12, I1, I2).
    pub const INVALID: Kind = kind(400, "validation", "Invalid request");
    /// 401: credentials (T1, T2).
    pub const UNAUTHORIZED: Kind = kind(401, "unauthorized", "Unauthorized");
    /// 403: force-approve in production (S14).
    pub const FORBIDDEN: Kind = kind(403, "forbidden", "Forbidden");
    /// 404: unknown reference.
    pub const NOT_FOUND: Kind = kind(404, "not-found", "Payment not found");
    /// 404: unknown webhook id.
    pub const WEBHOOK_NOT_FOUND: Kind = kind(404, "not-found", "Webhook not found");
    /// 404: no such route.
    pub const NO_ROUTE: Kind = kind(404, "no-route", "Not found");
    /// 409, rule I5.
    pub const REFERENCE_USED: Kind = kind(409, "reference-already-used", "Reference already used");
    /// 409, rule I4.
    pub const IDEMPOTENCY_CONFLICT: Kind = kind(409, "idempotency-conflict", "Idempotency conflict");
    /// 409, rule S2: approve, reject, start approving or force-approve a payment not CREATED.
    pub const NOT_CREATED: Kind = kind(409, "payment-not-created", "Payment is not awaiting the user");
    /// 409, rule S1: cancel of a final state.
    pub const CANCEL_FINAL: Kind = kind(409, "cancel-final-state", "Cancel refused: the payment is final");
    /// 409, rule S6: cancel while the user is approving.
    pub const CANCEL_WHILE_APPROVING: Kind = kind(409, "cancel-while-approving", "Cancel refused: the user is approving");
    /// 409, rule S6: cancel after full capture.
    pub const CANCEL_FULLY_CAPTURED: Kind = kind(409, "cancel-fully-captured", "Cancel refused: fully captured");
    /// 409, rule S6: cancel after 180 days.
    pub const CANCEL_TOO_LATE: Kind = kind(409, "cancel-too-late", "Cancel refused: authorization older than 180 days");
    /// 409, rule S7: capture before authorization.
    pub const CAPTURE_NOT_AUTHORIZED: Kind = kind(409, "capture-not-authorized", "Capture refused: not authorized");
    /// 409, rule S7: capture after cancel.
    pub const CAPTURE_AFTER_CANCEL: Kind = kind(409, "capture-after-cancel", "Capture refused: cancelled");
    /// 409, rule S7: capture after 180 days.
    pub const CAPTURE_TOO_LATE: Kind = kind(409, "capture-too-late", "Capture refused: authorization older than 180 days");
    /// 409, rule S7: capture amount too high.
    pub const CAPTURE_TOO_HIGH: Kind = kind(409, "capture-amount-too-high", "Capture amount too high");
    /// 409, rule S8: refund of a payment never authorized.
    pub const REFUND_NOT_AUTHORIZED: Kind = kind(409, "refund-not-authorized", "Refund refused: not authorized");
    /// 409, rule S8: refund above what was captured and not refunded.
    pub const REFUND_TOO_HIGH: Kind = kind(409, "refund-amount-too-high", "Refund amount too high");
    /// 409, rule S8: refund of money captured more than 365 days ago.
    pub const REFUND_TOO_LATE: Kind = kind(409, "refund-too-late", "Refund refused: captured more than 365 days ago");
    /// 409: a test control named a reference several merchants use, without an MSN.
    pub const AMBIGUOUS: Kind = kind(409, "ambiguous-reference", "Ambiguous reference");
    /// 429, rule S13.
    pub const RATE_LIMITED: Kind = kind(429, "rate-limited", "Too many requests");
    /// An injected 423.
    pub const INJECTED_423: Kind = kind(423, "injected-fault", "Locked");
    /// An injected 429.
    pub const INJECTED_429: Kind = kind(429, "injected-fault", "Too many requests");
    /// An injected 503.
    pub const INJECTED_503: Kind = kind(503, "injected-fault", "Service unavailable");

    /// The forbidden transitions (409), one per refusal the rules S1, S2, S6, S7, S8 name.
    pub const TRANSITIONS: &[Kind] = &[
        NOT_CREATED,
        CANCEL_FINAL,
        CANCEL_WHILE_APPROVING,
        CANCEL_FULLY_CAPTURED,
        CANCEL_TOO_LATE,
        CAPTURE_NOT_AUTHORIZED,
        CAPTURE_AFTER_CANCEL,
        CAPTURE_TOO_LATE,
        CAPTURE_TOO_HIGH,
        REFUND_NOT_AUTHORIZED,
        REFUND_TOO_HIGH,
        REFUND_TOO_LATE,
    ];
}

/// Reading a refused client call: its status, its Problem body, a header.
pub trait Outcome {
    /// The error of a call expected to fail; panics with the value when it succeeded.
    fn refused(self) -> Error;

    /// Asserts the call was refused with exactly `kind` (status, `application/problem+json`,
    /// Problem `status`, `type` and `title`); returns the Problem.
    fn refused_as(self, kind: Kind) -> Problem
    where
        Self: Sized,
    {
        problem_as(&self.refused(), kind)
    }

    /// Asserts a 400 validation Problem naming `field` in `extraDetails`; returns the reason.
    fn invalid_field(self, field: &str) -> String
    where
        Self: Sized,
    {
        named_detail(&self.refused_as(kinds::INVALID), field)
    }
}

impl<T: std::fmt::Debug> Outcome for Result<T, Error> {
    fn refused(self) -> Error {
        match self {
            Ok(value) => panic!("the call should have been refused, but got {value:?}"),
            Err(error) => error,
        }
    }
}

/// The reason given for `field` in a Problem's `extraDetails`.
pub fn named_detail(problem: &Problem, field: &str) -> String {
    let details = problem.extra_details.clone().unwrap_or_default();
    details
        .iter()
        .find(|detail| detail.name == field)
        .map(|detail| detail.reason.clone())
        .unwrap_or_else(|| panic!("no extraDetail named `{field}` in {details:?}"))
}

/// Asserts that `problem` is exactly `kind` (`status`, `type`, `title`).
pub fn assert_kind(problem: &Problem, kind: Kind) {
    assert_eq!(
        (problem.status, problem.type_.as_str(), problem.title.as_str()),
        (i64::from(kind.status), kind.type_uri().as_str(), kind.title),
        "expected the {} Problem `{}`, got: {problem:?}",
        kind.status,
        kind.kind,
    );
}

/// The Problem of a client error, asserted to be exactly `kind`: every `application/problem+json`
/// answer is an `Error::Problem`, for statuses the spec documents for the operation and for the
/// others alike (401, 423, 429, 503, and every error of forceApprove, which documents only 200);
/// read as the spec's own `Problem` type.
pub fn problem_as(error: &Error, kind: Kind) -> Problem {
    let status = kind.status;
    assert_eq!(error.status(), Some(status), "status of {error}");
    assert_eq!(
        error_header(error, "content-type").as_deref(),
        Some("application/problem+json"),
        "content type of {error}"
    );
    let problem: Problem = match error {
        Error::Problem { problem, .. } => problem.decode().unwrap_or_else(|e| panic!("{status} body is not the spec's Problem ({e}): {problem:?}")),
        other => panic!("expected a Problem with status {status}, got {other:?}"),
    };
    assert_kind(&problem, kind);
    problem
}

/// Asserts that a test control was refused as the API would refuse it: exactly `kind` (a
/// "not allowed" refusal, not "not found" or "ambiguous").
pub fn assert_control_refused(result: Result<(), ControlError>, kind: Kind) {
    match result {
        Err(ControlError::NotAllowed(refusal)) => assert_eq!(
            (refusal.status, refusal.kind, refusal.title),
            (kind.status, kind.kind, kind.title),
            "control refused, but not as expected: {}",
            refusal.detail
        ),
        other => panic!("expected the control to be refused as `{}`, got {other:?}", kind.kind),
    }
}

/// A response header carried by a client error.
pub fn error_header(error: &Error, name: &str) -> Option<String> {
    let headers = match error {
        Error::Problem { headers, .. }
        | Error::Status { headers, .. }
        | Error::Decode { headers, .. }
        | Error::UnexpectedContentType { headers, .. } => headers,
        _ => return None,
    };
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// Attempts the client made for a failed call.
pub fn attempts(error: &Error) -> u32 {
    error.context().map(|c| c.attempts).unwrap_or_else(|| panic!("no call context in {error:?}"))
}

/// The tests' handle on one merchant: a generated client plus a raw HTTP path for the few
/// requests the client cannot make. Cheap to clone (clones share the client's connection pool,
/// token cache and idempotency record).
#[derive(Debug, Clone)]
pub struct Api {
    /// The generated client.
    pub client: Client,
    /// Merchant serial number of this client.
    pub msn: String,
    base: String,
    subscription_key: String,
    http: reqwest::Client,
}

impl Api {
    /// A client for `sim` acting as [`MSN`], test settings.
    pub async fn connect(sim: &RunningSimulator) -> Api {
        Api::connect_with(sim, |builder| builder).await
    }

    /// A client for `sim` acting as [`MSN`], test settings changed by `configure` (e.g.
    /// `|b| b.retry_policy(fast_retries())`).
    pub async fn connect_with(sim: &RunningSimulator, configure: impl FnOnce(ClientBuilder) -> ClientBuilder) -> Api {
        Api::build(sim.base_url(), MSN, SUBSCRIPTION_KEY, configure).await
    }

    /// A client for the simulator at `base` acting as `msn`, test settings.
    pub async fn connect_as(base: &str, msn: &str, subscription_key: &str) -> Api {
        Api::build(base, msn, subscription_key, |builder| builder).await
    }

    /// A client for the simulator at `base` acting as `msn`; checks that it gets a token.
    pub async fn build(
        base: &str,
        msn: &str,
        subscription_key: &str,
        configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
    ) -> Api {
        let client = configure(client_builder(base, msn, subscription_key)).build().expect("client builds");
        client.access_token().await.expect("the client gets an access token");
        Api {
            client,
            msn: msn.to_string(),
            base: base.to_string(),
            subscription_key: subscription_key.to_string(),
            http: reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap(),
        }
    }

    // ---- the generated client ----

    /// createPayment with the caller's key.
    pub async fn create(&self, request: &CreatePaymentRequest, key: &str) -> Result<Created, Error> {
        self.client.create_payment(request, IdempotentOptions::with_key(self::key(key))).await
    }

    /// Creates a payment of `value` øre with the key `create-{reference}`; asserts success.
    pub async fn create_payment(&self, reference: &str, value: i64) -> CreatePaymentResponse {
        let created = self
            .create(&payment_request(reference, value), &format!("create-{reference}"))
            .await
            .unwrap_or_else(|error| panic!("create failed: {error}"));
        assert_eq!(created.value.reference.as_str(), reference);
        created.value
    }

    /// Creates and force-approves a payment of `value` øre.
    pub async fn authorized_payment(&self, reference: &str, value: i64) {
        self.create_payment(reference, value).await;
        self.force_approve(reference).await.unwrap_or_else(|error| panic!("force approve failed: {error}"));
    }

    /// getPayment.
    pub async fn get(&self, reference: &str) -> Result<GetPaymentResponse, Error> {
        self.client.get_payment(&self::reference(reference), CallOptions::new()).await
    }

    /// getPayment, asserting success.
    pub async fn payment(&self, reference: &str) -> GetPaymentResponse {
        self.get(reference).await.unwrap_or_else(|error| panic!("get failed: {error}"))
    }

    /// getPaymentEventLog.
    pub async fn events(&self, reference: &str) -> Result<Vec<PaymentEvent>, Error> {
        self.client.get_payment_event_log(&self::reference(reference), CallOptions::new()).await
    }

    /// getPaymentEventLog, asserting success.
    pub async fn event_log(&self, reference: &str) -> Vec<PaymentEvent> {
        self.events(reference).await.unwrap_or_else(|error| panic!("event log failed: {error}"))
    }

    /// capturePayment of `amount` with the caller's key.
    pub async fn capture_amount(&self, reference: &str, amount: Amount, key: &str) -> Result<Modified, Error> {
        let body = CaptureModificationRequest::new(amount);
        self.client
            .capture_payment(&self::reference(reference), &body, IdempotentOptions::with_key(self::key(key)))
            .await
    }

    /// capturePayment of `value` øre.
    pub async fn capture(&self, reference: &str, value: i64, key: &str) -> Result<Modified, Error> {
        self.capture_amount(reference, nok(value), key).await
    }

    /// refundPayment of `amount` with the caller's key.
    pub async fn refund_amount(&self, reference: &str, amount: Amount, key: &str) -> Result<Modified, Error> {
        let body = RefundModificationRequest::new(amount);
        self.client
            .refund_payment(&self::reference(reference), &body, IdempotentOptions::with_key(self::key(key)))
            .await
    }

    /// refundPayment of `value` øre.
    pub async fn refund(&self, reference: &str, value: i64, key: &str) -> Result<Modified, Error> {
        self.refund_amount(reference, nok(value), key).await
    }

    /// cancelPayment without a body (1.8.1 declares no idempotency key).
    pub async fn cancel(&self, reference: &str) -> Result<ModificationResponse, Error> {
        self.client.cancel_payment(&self::reference(reference), None, CallOptions::new()).await
    }

    /// cancelPayment with a body.
    pub async fn cancel_with(&self, reference: &str, body: &CancelModificationRequest) -> Result<ModificationResponse, Error> {
        self.client.cancel_payment(&self::reference(reference), Some(body), CallOptions::new()).await
    }

    /// forceApprove without a body.
    pub async fn force_approve(&self, reference: &str) -> Result<(), Error> {
        self.client.force_approve(&self::reference(reference), None, CallOptions::new()).await
    }

    /// forceApprove with a body.
    pub async fn force_approve_with(&self, reference: &str, body: &ForceApprove) -> Result<(), Error> {
        self.client.force_approve(&self::reference(reference), Some(body), CallOptions::new()).await
    }

    // ---- raw HTTP ----

    /// A raw HTTP call to `path` (from the host root) with this merchant's credentials
    /// (`Authorization: Bearer <the client's current token>`, subscription key, MSN; rule T2).
    ///
    /// **Use the raw path only for what the generated client cannot express by design:**
    /// requests that break the schema (missing required fields, bad patterns or lengths,
    /// out-of-range numbers, unknown enum values, more than five metadata pairs, two customer
    /// identifiers, a body that is not JSON), a wrong or missing `Content-Type`, a bad
    /// `{reference}` in the path or a wrong path, missing or wrong credential headers (including a
    /// token used for another MSN or after it expired), a missing or over-long `Idempotency-Key`,
    /// headers the spec does not declare (a keyed cancel, the simulator's per-request fault
    /// header), byte-for-byte comparison of replayed bodies (or of bodies sent with another
    /// member order), response headers of successful calls, which the client does not
    /// expose, and the Webhooks API's registration calls (`/webhooks/v1/...`), which the
    /// generated client (ePayment and access token) does not cover. Everything else goes
    /// through [`Api::client`].
    pub fn raw(&self, method: Method, path: &str) -> Call {
        Call {
            method,
            path: path.to_string(),
            headers: Vec::new(),
            token: TokenSlot::Current,
            body: None,
        }
        .header("Ocp-Apim-Subscription-Key", &self.subscription_key)
        .header("Merchant-Serial-Number", &self.msn)
    }

    /// A raw call to an ePayment path (`/v1/...`, prefixed with `/epayment`); see [`Api::raw`].
    pub fn raw_epayment(&self, method: Method, path: &str) -> Call {
        self.raw(method, &format!("/epayment{path}"))
    }

    /// A raw createPayment with any JSON body; see [`Api::raw`].
    pub fn raw_create<T: serde::Serialize>(&self, body: &T, key: &str) -> Call {
        self.raw_epayment(Method::POST, "/v1/payments").header("Idempotency-Key", key).json(body)
    }

    /// A raw capturePayment with any JSON body; see [`Api::raw`].
    pub fn raw_capture<T: serde::Serialize>(&self, reference: &str, body: &T, key: &str) -> Call {
        self.raw_epayment(Method::POST, &format!("/v1/payments/{reference}/capture"))
            .header("Idempotency-Key", key)
            .json(body)
    }

    /// A raw refundPayment with any JSON body; see [`Api::raw`].
    pub fn raw_refund<T: serde::Serialize>(&self, reference: &str, body: &T, key: &str) -> Call {
        self.raw_epayment(Method::POST, &format!("/v1/payments/{reference}/refund"))
            .header("Idempotency-Key", key)
            .json(body)
    }

    /// A raw cancelPayment without body or key; see [`Api::raw`].
    pub fn raw_cancel(&self, reference: &str) -> Call {
        self.raw_epayment(Method::POST, &format!("/v1/payments/{reference}/cancel"))
    }

    /// A raw getPayment (for a bad reference in the path, or byte comparison); see [`Api::raw`].
    pub fn raw_get(&self, reference: &str) -> Call {
        self.raw_epayment(Method::GET, &format!("/v1/payments/{reference}"))
    }

    /// A raw access-token call with exactly these headers (for missing or malformed ones the
    /// client's builder refuses); see [`Api::raw`].
    pub fn raw_token(&self, client_id: &str, client_secret: &str, subscription_key: &str, msn: Option<&str>) -> Call {
        let mut call = Call {
            method: Method::POST,
            path: "/accesstoken/get".to_string(),
            headers: Vec::new(),
            token: TokenSlot::None,
            body: None,
        }
        .header("client_id", client_id)
        .header("client_secret", client_secret)
        .header("Ocp-Apim-Subscription-Key", subscription_key);
        if let Some(msn) = msn {
            call = call.header("Merchant-Serial-Number", msn);
        }
        call
    }

    /// Sends a raw call; see [`Api::raw`].
    pub async fn send_raw(&self, call: Call) -> Raw {
        self.try_send_raw(call).await.expect("request reaches the simulator")
    }

    /// Sends a raw call; transport errors come back as `Err`; see [`Api::raw`].
    pub async fn try_send_raw(&self, call: Call) -> Result<Raw, reqwest::Error> {
        let mut request = self.http.request(call.method, format!("{}{}", self.base, call.path));
        match call.token {
            TokenSlot::Current => {
                let token = self.client.access_token().await.expect("the client gets an access token");
                request = request.header("Authorization", format!("Bearer {}", token.expose()));
            }
            TokenSlot::Given(value) => request = request.header("Authorization", value),
            TokenSlot::None => {}
        }
        for (name, value) in &call.headers {
            let value = reqwest::header::HeaderValue::from_bytes(value).expect("a raw header value without CR, LF or NUL");
            request = request.header(name, value);
        }
        if let Some(body) = call.body {
            request = request.body(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let body = response.bytes().await?.to_vec();
        Ok(Raw { status, headers, body })
    }

    /// A test-control call under `/_sim` over HTTP (no credentials; not a merchant call, so
    /// not something the client offers).
    pub async fn control(&self, method: Method, path: &str, body: Option<serde_json::Value>) -> Raw {
        let mut call = Call {
            method,
            path: format!("/_sim{path}"),
            headers: Vec::new(),
            token: TokenSlot::None,
            body: None,
        };
        if let Some(body) = body {
            call = call.json(&body);
        }
        self.send_raw(call).await
    }
}

/// What a raw call sends as `Authorization`.
#[derive(Debug, Clone)]
enum TokenSlot {
    /// `Bearer <the client's current token>`, fetched when sent.
    Current,
    /// This value.
    Given(String),
    /// No header.
    None,
}

/// One raw request under construction; see [`Api::raw`].
#[derive(Debug, Clone)]
pub struct Call {
    method: Method,
    path: String,
    headers: Vec<(String, Vec<u8>)>,
    token: TokenSlot,
    body: Option<Vec<u8>>,
}

impl Call {
    /// Sets (or replaces) a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if name.eq_ignore_ascii_case("authorization") {
            self.token = TokenSlot::Given(value.to_string());
            return self;
        }
        self.header_bytes(name, value.as_bytes())
    }

    /// Sets (or replaces) a header with any bytes, such as ones a `&str` header cannot carry.
    pub fn header_bytes(mut self, name: &str, value: &[u8]) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value.to_vec()));
        self
    }

    /// Removes a header.
    pub fn without(mut self, name: &str) -> Self {
        if name.eq_ignore_ascii_case("authorization") {
            self.token = TokenSlot::None;
        }
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    /// A JSON body with `Content-Type: application/json`.
    pub fn json<T: serde::Serialize>(self, body: &T) -> Self {
        self.body(serde_json::to_vec(body).unwrap()).header("Content-Type", "application/json")
    }

    /// Raw body bytes (no content type change).
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }
}

/// A finished raw HTTP exchange.
#[derive(Debug, Clone)]
pub struct Raw {
    /// Status code.
    pub status: u16,
    /// Response headers (lowercase names).
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl Raw {
    /// The body as a generated type; panics with the body when it does not parse.
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!("body does not parse ({error}): {}", String::from_utf8_lossy(&self.body))
        })
    }

    /// The Problem body, asserted to be exactly `kind` (status, content type, `status`, `type`,
    /// `title`).
    pub fn refused_as(&self, kind: Kind) -> Problem {
        assert_eq!(self.status, kind.status, "status; body: {}", self.text());
        assert_eq!(self.header("content-type"), Some("application/problem+json"));
        let problem: Problem = self.json();
        assert_kind(&problem, kind);
        problem
    }

    /// Asserts a 400 validation Problem that names `field` in `extraDetails`; returns the reason.
    pub fn invalid_field(&self, field: &str) -> String {
        named_detail(&self.refused_as(kinds::INVALID), field)
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}
