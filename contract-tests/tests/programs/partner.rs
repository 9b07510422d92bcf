//! A partner's program: one set of partner keys, one client, payments for two merchants. The
//! client has no merchant serial number of its own; each handle (or call) names one.

use vipps_contract_tests::sim::Simulator;
use vipps_epayment::epayment::{
    Amount, AmountValue, CaptureModificationRequest, CreatePaymentRequest, CreatePaymentRequestUserFlow, Currency, Customer, ForceApprove,
    PaymentMethod, PaymentMethodType, Reference, State,
};
use vipps_epayment::{CallOptions, Client, Error, IdempotentOptions};

#[tokio::test]
async fn a_partner_serves_two_merchants_with_one_client() -> Result<(), Box<dyn std::error::Error>> {
    let sim = Simulator::builder().start().await?;
    let partner = Client::builder()
        .base_url(sim.base_url())
        .client_id("partner-client-id")
        .client_secret("partner-client-secret")
        .subscription_key("partner-subscription-key")
        .build()?;

    for (msn, order, kroner) in [("223344", "bakery-order-01", 120), ("556677", "florist-order-01", 450)] {
        let shop = partner.for_merchant(msn)?;
        let reference = Reference::new(order)?;
        let amount = Amount::new(Currency::Nok, AmountValue::new(kroner * 100)?);
        let request = CreatePaymentRequest::new(
            amount.clone(),
            PaymentMethod::new(PaymentMethodType::Wallet),
            reference.clone(),
            CreatePaymentRequestUserFlow::PushMessage,
        )
        .with_customer(Customer::phone_number("4791234567")?);
        shop.create_payment(&request, IdempotentOptions::new()).await?;
        let approve = ForceApprove::default().with_customer(Customer::phone_number("4791234567")?);
        shop.force_approve(&reference, Some(&approve), CallOptions::new()).await?;
        let captured = shop.capture_payment(&reference, &CaptureModificationRequest::new(amount), IdempotentOptions::new()).await?;
        assert_eq!(captured.value.aggregate.captured_amount.value.get(), kroner * 100);
    }

    // Each merchant sees its own payment only; a call may also name its merchant itself.
    let bakery_order = Reference::new("bakery-order-01")?;
    let as_bakery = CallOptions::new().merchant_serial_number("223344");
    assert_eq!(partner.get_payment(&bakery_order, as_bakery).await?.state, State::Authorized);
    let as_florist = CallOptions::new().merchant_serial_number("556677");
    match partner.get_payment(&bakery_order, as_florist).await {
        Err(Error::Problem { status: 404, .. }) => {}
        other => panic!("the florist cannot see the bakery's payment: {other:?}"),
    }
    // Without any merchant serial number, nothing is sent.
    let refused = partner.get_payment(&bakery_order, CallOptions::new()).await;
    assert!(matches!(refused, Err(Error::InvalidInput { .. })), "{refused:?}");
    Ok(())
}
