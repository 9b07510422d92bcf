//! The generated client against a real HTTP server on loopback (`tests/support`): no mocked
//! client, the client speaks HTTP to a scriptable hyper server. One module per concern.

#[path = "../support/mod.rs"]
mod support;

mod decode;
mod idempotency;
mod polling;
mod retry;
mod secrets;
mod token;
mod wire;

/// Sample bodies shared by the modules.
mod samples {
    use vipps_epayment::epayment::{
        Amount, AmountValue, CaptureModificationRequest, CreatePaymentRequest, CreatePaymentRequestReturnUrl,
        CreatePaymentRequestUserFlow, Currency, PaymentMethod, PaymentMethodType, Reference, RefundModificationRequest,
    };

    pub fn amount(value: i64) -> Amount {
        Amount::new(Currency::Nok, AmountValue::new(value).expect("a valid amount"))
    }

    pub fn create(reference: &Reference) -> CreatePaymentRequest {
        let mut body = CreatePaymentRequest::new(
            amount(1000),
            PaymentMethod::new(PaymentMethodType::Wallet),
            reference.clone(),
            CreatePaymentRequestUserFlow::WebRedirect,
        );
        body.return_url = Some(CreatePaymentRequestReturnUrl::new("https://shop.example.org/return").expect("valid url"));
        body
    }

    pub fn capture(value: i64) -> CaptureModificationRequest {
        CaptureModificationRequest::new(amount(value))
    }

    pub fn refund(value: i64) -> RefundModificationRequest {
        RefundModificationRequest::new(amount(value))
    }
}
