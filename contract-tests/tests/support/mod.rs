//! The one adapter between the rule tests and the simulator: every HTTP call the tests make
//! goes through [`Api`] (reqwest over loopback, bodies as the generated model types), so it can
//! later be switched to the generated client. Also starts simulators with test settings.
#![allow(dead_code)]

use std::time::Duration;

use chrono::{TimeZone, Utc};
use reqwest::Method;
use serde::de::DeserializeOwned;
use vipps_contract_tests::sim::{Clock, RateLimits, RunningSimulator, Simulator, SimulatorBuilder};
use vipps_epayment::epayment::{
    Amount, AmountValue, CaptureModificationRequest, CreatePaymentRequest,
    CreatePaymentRequestReturnUrl, CreatePaymentRequestUserFlow, Currency, GetPaymentResponse,
    PaymentEvent, PaymentMethod, PaymentMethodType, Problem, Reference, RefundModificationRequest,
};

/// The merchant serial number the tests act as.
pub const MSN: &str = "123456";
/// The subscription key the tests use.
pub const SUBSCRIPTION_KEY: &str = "test-subscription-key";

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

/// `value` minor units of `currency`.
pub fn money(currency: Currency, value: i64) -> Amount {
    Amount::new(currency, AmountValue::new(value).expect("amount in range"))
}

/// `value` øre.
pub fn nok(value: i64) -> Amount {
    money(Currency::Nok, value)
}

/// A WALLET payment by web redirect of `value` NOK øre.
pub fn payment_request(reference: &str, value: i64) -> CreatePaymentRequest {
    let mut request = CreatePaymentRequest::new(
        nok(value),
        PaymentMethod::new(PaymentMethodType::Wallet),
        Reference::new(reference).expect("valid reference"),
        CreatePaymentRequestUserFlow::WebRedirect,
    );
    request.return_url = Some(CreatePaymentRequestReturnUrl::new("https://shop.example.org/done").unwrap());
    request
}

/// The JSON of a valid create request, for tests that break it on purpose.
pub fn payment_json(reference: &str, value: i64) -> serde_json::Value {
    serde_json::to_value(payment_request(reference, value)).unwrap()
}

/// A finished HTTP exchange.
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

    /// The Problem body, checking the status and content type.
    pub fn problem(&self, status: u16) -> Problem {
        assert_eq!(self.status, status, "status; body: {}", self.text());
        assert_eq!(self.header("content-type"), Some("application/problem+json"));
        let problem: Problem = self.json();
        assert_eq!(problem.status, i64::from(status));
        problem
    }

    /// Asserts a 400 Problem that names `field` in `extraDetails`; returns the reason.
    pub fn invalid_field(&self, field: &str) -> String {
        let problem = self.problem(400);
        let details = problem.extra_details.unwrap_or_default();
        details
            .iter()
            .find(|detail| detail.name == field)
            .map(|detail| detail.reason.clone())
            .unwrap_or_else(|| panic!("no extraDetail named `{field}` in {details:?}"))
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

/// One request under construction (for raw calls with unusual headers or bodies).
#[derive(Debug, Clone)]
pub struct Call {
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl Call {
    /// Sets (or replaces) a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Removes a header.
    pub fn without(mut self, name: &str) -> Self {
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

/// The tests' HTTP client for one merchant.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    /// Merchant serial number of this client.
    pub msn: String,
    subscription_key: String,
    token: String,
}

impl Api {
    /// A client for `sim` acting as [`MSN`], with a fresh token.
    pub async fn connect(sim: &RunningSimulator) -> Api {
        Api::connect_as(sim.base_url(), MSN, SUBSCRIPTION_KEY).await
    }

    /// A client for the simulator at `base` acting as `msn`.
    pub async fn connect_as(base: &str, msn: &str, subscription_key: &str) -> Api {
        let mut api = Api {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap(),
            base: base.to_string(),
            msn: msn.to_string(),
            subscription_key: subscription_key.to_string(),
            token: String::new(),
        };
        api.refresh_token().await;
        api
    }

    /// Fetches a new access token (after the clock moved past its hour).
    pub async fn refresh_token(&mut self) {
        let reply = self
            .send(self.token_call("client-1", "secret-1", &self.subscription_key.clone(), Some(&self.msn.clone())))
            .await;
        assert_eq!(reply.status, 200, "token call failed: {}", reply.text());
        let token: vipps_epayment::access_token::AuthorizationTokenResponse = reply.json();
        self.token = token.access_token;
    }

    /// The access-token call with these headers (rule T1).
    pub fn token_call(&self, client_id: &str, client_secret: &str, subscription_key: &str, msn: Option<&str>) -> Call {
        let mut call = Call {
            method: Method::POST,
            path: "/accesstoken/get".to_string(),
            headers: Vec::new(),
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

    /// A call to `path` (from the host root) with this client's credentials (rule T2).
    pub fn call(&self, method: Method, path: &str) -> Call {
        Call {
            method,
            path: path.to_string(),
            headers: Vec::new(),
            body: None,
        }
        .header("Authorization", &format!("Bearer {}", self.token))
        .header("Ocp-Apim-Subscription-Key", &self.subscription_key)
        .header("Merchant-Serial-Number", &self.msn)
    }

    /// A call to an ePayment path (`/v1/...`, prefixed with `/epayment`).
    pub fn epayment(&self, method: Method, path: &str) -> Call {
        self.call(method, &format!("/epayment{path}"))
    }

    /// Sends a call.
    pub async fn send(&self, call: Call) -> Raw {
        self.try_send(call).await.expect("request reaches the simulator")
    }

    /// Sends a call; transport errors (a dropped connection) come back as `Err`.
    pub async fn try_send(&self, call: Call) -> Result<Raw, reqwest::Error> {
        let mut request = self.http.request(call.method, format!("{}{}", self.base, call.path));
        for (name, value) in &call.headers {
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

    /// createPayment.
    pub async fn create(&self, request: &CreatePaymentRequest, key: &str) -> Raw {
        self.send(self.create_call(request, key)).await
    }

    /// The createPayment call, to send later or with faults.
    pub fn create_call<T: serde::Serialize>(&self, request: &T, key: &str) -> Call {
        self.epayment(Method::POST, "/v1/payments").header("Idempotency-Key", key).json(request)
    }

    /// Creates a payment of `value` øre and asserts 201.
    pub async fn create_payment(&self, reference: &str, value: i64) -> Raw {
        let reply = self.create(&payment_request(reference, value), &format!("create-{reference}")).await;
        assert_eq!(reply.status, 201, "create failed: {}", reply.text());
        reply
    }

    /// Creates and force-approves a payment of `value` øre.
    pub async fn authorized_payment(&self, reference: &str, value: i64) {
        self.create_payment(reference, value).await;
        let reply = self.force_approve(reference).await;
        assert_eq!(reply.status, 200, "force approve failed: {}", reply.text());
    }

    /// getPayment.
    pub async fn get(&self, reference: &str) -> Raw {
        self.send(self.epayment(Method::GET, &format!("/v1/payments/{reference}"))).await
    }

    /// getPayment, asserting 200.
    pub async fn payment(&self, reference: &str) -> GetPaymentResponse {
        let reply = self.get(reference).await;
        assert_eq!(reply.status, 200, "get failed: {}", reply.text());
        reply.json()
    }

    /// getPaymentEventLog.
    pub async fn events(&self, reference: &str) -> Raw {
        self.send(self.epayment(Method::GET, &format!("/v1/payments/{reference}/events"))).await
    }

    /// getPaymentEventLog, asserting 200.
    pub async fn event_log(&self, reference: &str) -> Vec<PaymentEvent> {
        let reply = self.events(reference).await;
        assert_eq!(reply.status, 200, "events failed: {}", reply.text());
        reply.json()
    }

    /// The capturePayment call.
    pub fn capture_call(&self, reference: &str, amount: Amount, key: &str) -> Call {
        self.epayment(Method::POST, &format!("/v1/payments/{reference}/capture"))
            .header("Idempotency-Key", key)
            .json(&CaptureModificationRequest::new(amount))
    }

    /// capturePayment of `value` øre.
    pub async fn capture(&self, reference: &str, value: i64, key: &str) -> Raw {
        self.send(self.capture_call(reference, nok(value), key)).await
    }

    /// The refundPayment call.
    pub fn refund_call(&self, reference: &str, amount: Amount, key: &str) -> Call {
        self.epayment(Method::POST, &format!("/v1/payments/{reference}/refund"))
            .header("Idempotency-Key", key)
            .json(&RefundModificationRequest::new(amount))
    }

    /// refundPayment of `value` øre.
    pub async fn refund(&self, reference: &str, value: i64, key: &str) -> Raw {
        self.send(self.refund_call(reference, nok(value), key)).await
    }

    /// The cancelPayment call (no body, no key: the 1.8.1 shape).
    pub fn cancel_call(&self, reference: &str) -> Call {
        self.epayment(Method::POST, &format!("/v1/payments/{reference}/cancel"))
    }

    /// cancelPayment.
    pub async fn cancel(&self, reference: &str) -> Raw {
        self.send(self.cancel_call(reference)).await
    }

    /// The forceApprove call with an empty body.
    pub fn force_approve_call(&self, reference: &str) -> Call {
        self.epayment(Method::POST, &format!("/v1/test/payments/{reference}/approve"))
            .json(&serde_json::json!({}))
    }

    /// forceApprove.
    pub async fn force_approve(&self, reference: &str) -> Raw {
        self.send(self.force_approve_call(reference)).await
    }

    /// A test-control call under `/_sim` (no credentials).
    pub async fn control(&self, method: Method, path: &str, body: Option<serde_json::Value>) -> Raw {
        let mut call = Call {
            method,
            path: format!("/_sim{path}"),
            headers: Vec::new(),
            body: None,
        };
        if let Some(body) = body {
            call = call.json(&body);
        }
        self.send(call).await
    }
}
