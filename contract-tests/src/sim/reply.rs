//! Finished HTTP answers: the bytes the simulator sends, and the Problem bodies of refusals.
//!
//! A [`Reply`] is plain data so that idempotency can store it and replay it byte for byte.

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use vipps_epayment::epayment::{ExtraDetail, Problem};

/// Content type of every Problem body (and, as the spec says, of ModificationResponse).
pub const PROBLEM_JSON: &str = "application/problem+json";
/// Content type of ordinary JSON bodies.
pub const JSON: &str = "application/json";
/// Content type of the access-token answer, as the access-token spec declares it.
pub const JSON_UTF8: &str = "application/json;charset=UTF-8";

/// A complete answer: status, content type, optional `Retry-After` and the body bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status code.
    pub status: u16,
    /// `Content-Type`, when there is a body.
    pub content_type: Option<&'static str>,
    /// `Retry-After` in seconds (429, 423, 503).
    pub retry_after: Option<u64>,
    /// The body, exactly as sent.
    pub body: Bytes,
}

impl Reply {
    /// A body serialized from one of the generated model types.
    pub fn json<T: serde::Serialize>(status: u16, content_type: &'static str, value: &T) -> Self {
        let body = serde_json::to_vec(value).expect("generated model types serialize");
        Self {
            status,
            content_type: Some(content_type),
            retry_after: None,
            body: Bytes::from(body),
        }
    }

    /// A status without a body.
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            content_type: None,
            retry_after: None,
            body: Bytes::new(),
        }
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(self.body));
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let Some(content_type) = self.content_type {
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// A forbidden transition (409): each refusal has its own stable Problem `type`
/// (`urn:epayment-sim:problem:<kind>`) and `title`, so that a test (or a merchant) can tell an
/// S6 refusal from an S7 or S8 one, and all of them from an idempotency conflict (I4,
/// `idempotency-conflict`) or a reused reference (I5, `reference-already-used`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Forbidden {
    /// Rule S2: approve, reject, start approving or force-approve a payment that is not CREATED.
    NotCreated,
    /// Rule S1: cancel of a payment in a final state (ABORTED, EXPIRED, TERMINATED).
    CancelFinal,
    /// Rule S6: cancel while the user is approving.
    CancelWhileApproving,
    /// Rule S6: cancel after full capture.
    CancelFullyCaptured,
    /// Rule S6: cancel more than 180 days after authorization.
    CancelTooLate,
    /// Rule S7: capture before authorization (or of a payment in a final state).
    CaptureNotAuthorized,
    /// Rule S7: capture after cancel.
    CaptureAfterCancel,
    /// Rule S7: capture more than 180 days after authorization.
    CaptureTooLate,
    /// Rule S7: capture above what remains authorized ("capture amount too high").
    CaptureTooHigh,
    /// Rule S8: refund of a payment that was never authorized (nothing captured).
    RefundNotAuthorized,
    /// Rule S8: refund above what was captured and not yet refunded.
    RefundTooHigh,
    /// Rule S8: refund of money captured more than 365 days ago.
    RefundTooLate,
}

impl Forbidden {
    /// Every forbidden transition, in a fixed order.
    pub const ALL: &'static [Forbidden] = &[
        Forbidden::NotCreated,
        Forbidden::CancelFinal,
        Forbidden::CancelWhileApproving,
        Forbidden::CancelFullyCaptured,
        Forbidden::CancelTooLate,
        Forbidden::CaptureNotAuthorized,
        Forbidden::CaptureAfterCancel,
        Forbidden::CaptureTooLate,
        Forbidden::CaptureTooHigh,
        Forbidden::RefundNotAuthorized,
        Forbidden::RefundTooHigh,
        Forbidden::RefundTooLate,
    ];

    /// The last segment of the Problem `type`.
    pub fn kind(self) -> &'static str {
        match self {
            Forbidden::NotCreated => "payment-not-created",
            Forbidden::CancelFinal => "cancel-final-state",
            Forbidden::CancelWhileApproving => "cancel-while-approving",
            Forbidden::CancelFullyCaptured => "cancel-fully-captured",
            Forbidden::CancelTooLate => "cancel-too-late",
            Forbidden::CaptureNotAuthorized => "capture-not-authorized",
            Forbidden::CaptureAfterCancel => "capture-after-cancel",
            Forbidden::CaptureTooLate => "capture-too-late",
            Forbidden::CaptureTooHigh => "capture-amount-too-high",
            Forbidden::RefundNotAuthorized => "refund-not-authorized",
            Forbidden::RefundTooHigh => "refund-amount-too-high",
            Forbidden::RefundTooLate => "refund-too-late",
        }
    }

    /// The Problem `title`.
    pub fn title(self) -> &'static str {
        match self {
            Forbidden::NotCreated => "Payment is not awaiting the user",
            Forbidden::CancelFinal => "Cancel refused: the payment is final",
            Forbidden::CancelWhileApproving => "Cancel refused: the user is approving",
            Forbidden::CancelFullyCaptured => "Cancel refused: fully captured",
            Forbidden::CancelTooLate => "Cancel refused: authorization older than 180 days",
            Forbidden::CaptureNotAuthorized => "Capture refused: not authorized",
            Forbidden::CaptureAfterCancel => "Capture refused: cancelled",
            Forbidden::CaptureTooLate => "Capture refused: authorization older than 180 days",
            Forbidden::CaptureTooHigh => "Capture amount too high",
            Forbidden::RefundNotAuthorized => "Refund refused: not authorized",
            Forbidden::RefundTooHigh => "Refund amount too high",
            Forbidden::RefundTooLate => "Refund refused: captured more than 365 days ago",
        }
    }

    /// The rulebook rule that forbids it.
    pub fn rule(self) -> &'static str {
        match self {
            Forbidden::NotCreated => "S2",
            Forbidden::CancelFinal => "S1",
            Forbidden::CancelWhileApproving | Forbidden::CancelFullyCaptured | Forbidden::CancelTooLate => "S6",
            Forbidden::CaptureNotAuthorized
            | Forbidden::CaptureAfterCancel
            | Forbidden::CaptureTooLate
            | Forbidden::CaptureTooHigh => "S7",
            Forbidden::RefundNotAuthorized | Forbidden::RefundTooHigh | Forbidden::RefundTooLate => "S8",
        }
    }
}

/// Why a request was refused; becomes a Problem body (RFC 7807 style, the spec's `Problem`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// HTTP status.
    pub status: u16,
    /// Last segment of the Problem `type` URI (`urn:epayment-sim:problem:<kind>`).
    pub kind: &'static str,
    /// Stable short label.
    pub title: &'static str,
    /// What went wrong in this case.
    pub detail: String,
    /// Offending fields: (name, reason).
    pub fields: Vec<(String, String)>,
    /// `Retry-After` seconds, for 423, 429 and 503.
    pub retry_after: Option<u64>,
}

impl Refusal {
    fn new(status: u16, kind: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            title,
            detail: detail.into(),
            fields: Vec::new(),
            retry_after: None,
        }
    }

    /// 400: the request breaks the spec or a request-shape rule; names the field and the rule.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        let field = field.into();
        let reason = reason.into();
        Self::new(400, "validation", "Invalid request", format!("{field}: {reason}"))
            .with_field(field, reason)
    }

    /// 401: missing or wrong credentials.
    pub fn unauthorized(field: impl Into<String>, reason: impl Into<String>) -> Self {
        let field = field.into();
        let reason = reason.into();
        Self::new(401, "unauthorized", "Unauthorized", format!("{field}: {reason}"))
            .with_field(field, reason)
    }

    /// 403: the operation is not available here.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(403, "forbidden", "Forbidden", detail)
    }

    /// 404: no payment with this reference for this merchant serial number.
    pub fn not_found(reference: &str) -> Self {
        Self::new(
            404,
            "not-found",
            "Payment not found",
            format!("no payment with reference `{reference}` for this merchant serial number"),
        )
        .with_field("Reference", "unknown reference")
    }

    /// 404: no webhook with this id for this merchant serial number.
    pub fn webhook_not_found(id: &str) -> Self {
        Self::new(
            404,
            "not-found",
            "Webhook not found",
            format!("no webhook with id `{id}` for this merchant serial number"),
        )
        .with_field("id", "unknown webhook id")
    }

    /// 404: no such route.
    pub fn no_route() -> Self {
        Self::new(
            404,
            "no-route",
            "Not found",
            "no such route: ePayment lives under /epayment/v1, the token at /accesstoken/get",
        )
    }

    /// 409: the reference is taken (rule I5).
    pub fn reference_used(reference: &str) -> Self {
        Self::new(
            409,
            "reference-already-used",
            "Reference already used",
            format!(
                "a payment with reference `{reference}` already exists for this merchant serial number (rule I5)"
            ),
        )
        .with_field("reference", "already used")
    }

    /// 409: same idempotency key, different request (rule I4).
    pub fn idempotency_conflict(key: &str) -> Self {
        Self::new(
            409,
            "idempotency-conflict",
            "Idempotency conflict",
            format!("idempotency key `{key}` was already used with a different request body (rule I4)"),
        )
        .with_field("Idempotency-Key", "reused with a different body")
    }

    /// 409: the payment's state forbids the operation (rules S1, S2, S6, S7, S8); `why` gives
    /// the Problem its own `type` and `title`.
    pub fn not_allowed(why: Forbidden, detail: impl Into<String>) -> Self {
        Self::new(409, why.kind(), why.title(), detail)
    }

    /// 409: a test control named a reference that several merchants use, without an MSN.
    pub fn ambiguous(detail: impl Into<String>) -> Self {
        Self::new(409, "ambiguous-reference", "Ambiguous reference", detail)
    }

    /// 429: over the rate limit (rule S13).
    pub fn rate_limited(detail: impl Into<String>, retry_after: u64) -> Self {
        let mut refusal = Self::new(429, "rate-limited", "Too many requests", detail);
        refusal.retry_after = Some(retry_after);
        refusal
    }

    /// An injected fault answering `status` (423, 429, 503, ...).
    pub fn injected(status: u16, retry_after: Option<u64>) -> Self {
        let title = match status {
            423 => "Locked",
            429 => "Too many requests",
            503 => "Service unavailable",
            _ => "Injected fault",
        };
        let mut refusal = Self::new(
            status,
            "injected-fault",
            title,
            format!("fault injected by the simulator: status {status}"),
        );
        refusal.retry_after = retry_after;
        refusal
    }

    /// Adds an offending field.
    pub fn with_field(mut self, name: impl Into<String>, reason: impl Into<String>) -> Self {
        self.fields.push((name.into(), reason.into()));
        self
    }

    /// The Problem body as the spec's generated type.
    pub fn to_problem(&self) -> Problem {
        let mut problem = Problem::new(
            format!("urn:epayment-sim:problem:{}", self.kind),
            self.title.to_string(),
            i64::from(self.status),
            uuid::Uuid::new_v4().to_string(),
        );
        problem.detail = Some(self.detail.clone());
        if !self.fields.is_empty() {
            problem.extra_details = Some(
                self.fields
                    .iter()
                    .map(|(name, reason)| ExtraDetail::new(name.clone(), reason.clone()))
                    .collect(),
            );
        }
        problem
    }

    /// The finished answer.
    pub fn into_reply(self) -> Reply {
        let mut reply = Reply::json(self.status, PROBLEM_JSON, &self.to_problem());
        reply.retry_after = self.retry_after;
        reply
    }
}

impl From<Refusal> for Reply {
    fn from(refusal: Refusal) -> Self {
        refusal.into_reply()
    }
}
