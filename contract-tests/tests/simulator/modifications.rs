//! Capture, refund and the aggregate (rules S7-S10).

use std::time::Duration;

use vipps_epayment::epayment::{Aggregate, AmountValue, Currency, PaymentEventName, PaymentMethodType, State};

use crate::support::{Api, Outcome, kinds, money, payment_request, problem_as, start};

const DAY: Duration = Duration::from_secs(86_400);

fn amounts(aggregate: &Aggregate) -> [i64; 4] {
    [
        aggregate.authorized_amount.value.get(),
        aggregate.captured_amount.value.get(),
        aggregate.cancelled_amount.value.get(),
        aggregate.refunded_amount.value.get(),
    ]
}

// rule S7: capture only after authorization
#[tokio::test]
async fn s7_capture_only_after_authorization() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.create_payment("order-s7-early", 1000).await;
    api.capture("order-s7-early", 100, "c1").await.refused_as(kinds::CAPTURE_NOT_AUTHORIZED);
    assert_eq!(api.payment("order-s7-early").await.aggregate.captured_amount.value.get(), 0);
    api.force_approve("order-s7-early").await.unwrap();
    api.capture("order-s7-early", 100, "c2").await.expect("after authorization it captures");
}

// rule S7: partial captures repeat; the total never exceeds authorized
#[tokio::test]
async fn s7_partial_captures_repeat_up_to_the_authorized_amount() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-s7-partial", 1000).await;
    let mut total = 0;
    for (i, value) in [300, 300, 400].into_iter().enumerate() {
        let done = api.capture("order-s7-partial", value, &format!("c{i}")).await.expect("capture");
        total += value;
        assert_eq!(done.value.state, State::Authorized);
        assert_eq!(done.value.aggregate.captured_amount.value.get(), total);
    }
    let problem = api.capture("order-s7-partial", 1, "c3").await.refused_as(kinds::CAPTURE_TOO_HIGH);
    assert!(problem.detail.as_deref().unwrap_or_default().contains("capture amount too high"));
    assert_eq!(crate::support::named_detail(&problem, "modificationAmount.value"), "capture amount too high");
    let payment = api.payment("order-s7-partial").await;
    assert_eq!(amounts(&payment.aggregate), [1000, 1000, 0, 0]);
    let captured: Vec<i64> = api
        .event_log("order-s7-partial")
        .await
        .iter()
        .filter(|e| e.name == PaymentEventName::Captured)
        .map(|e| e.amount.value.get())
        .collect();
    assert_eq!(captured, [300, 300, 400]);
}

// rule S7: refused after cancel
#[tokio::test]
async fn s7_capture_refused_after_cancel() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-s7-cancelled", 1000).await;
    api.capture("order-s7-cancelled", 100, "c1").await.unwrap();
    api.cancel("order-s7-cancelled").await.unwrap();
    api.capture("order-s7-cancelled", 100, "c2").await.refused_as(kinds::CAPTURE_AFTER_CANCEL);
    assert_eq!(amounts(&api.payment("order-s7-cancelled").await.aggregate), [1000, 100, 900, 0]);
}

// rule S7: within 180 days of authorization
#[tokio::test]
async fn s7_capture_refused_after_180_days() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-s7-late", 1000).await;
    sim.advance_clock(180 * DAY);
    api.capture("order-s7-late", 100, "c1").await.expect("on day 180");
    sim.advance_clock(Duration::from_secs(1));
    api.capture("order-s7-late", 100, "c2").await.refused_as(kinds::CAPTURE_TOO_LATE);
    assert_eq!(api.payment("order-s7-late").await.aggregate.captured_amount.value.get(), 100);
}

// rule S8: refund only captured money; partial refunds repeat; never above captured
#[tokio::test]
async fn s8_refunds_only_of_captured_money() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-s8-refund", 1000).await;
    api.refund("order-s8-refund", 100, "r0").await.refused_as(kinds::REFUND_TOO_HIGH);
    api.capture("order-s8-refund", 600, "c1").await.unwrap();
    api.refund("order-s8-refund", 200, "r1").await.unwrap();
    api.refund("order-s8-refund", 400, "r2").await.unwrap();
    let problem = api.refund("order-s8-refund", 1, "r3").await.refused_as(kinds::REFUND_TOO_HIGH);
    assert!(problem.detail.as_deref().unwrap_or_default().contains("refund amount too high"));
    assert_eq!(crate::support::named_detail(&problem, "modificationAmount.value"), "refund amount too high");
    assert_eq!(amounts(&api.payment("order-s8-refund").await.aggregate), [1000, 600, 0, 600]);
    // a refund on a payment that was never authorized is refused too
    api.create_payment("order-s8-created", 1000).await;
    api.refund("order-s8-created", 1, "r1-created").await.refused_as(kinds::REFUND_NOT_AUTHORIZED);
}

// rule S8: within 365 days of the capture
#[tokio::test]
async fn s8_refund_refused_after_365_days() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-s8-late", 1000).await;
    api.capture("order-s8-late", 500, "c1").await.unwrap();
    sim.advance_clock(365 * DAY);
    api.refund("order-s8-late", 100, "r1").await.expect("on day 365");
    sim.advance_clock(Duration::from_secs(1));
    api.refund("order-s8-late", 100, "r2").await.refused_as(kinds::REFUND_TOO_LATE);
    assert_eq!(api.payment("order-s8-late").await.aggregate.refunded_amount.value.get(), 100);
}

// rule S8: the 365 days count from the capture of the refunded money, not from the last
// capture; a refund takes the oldest captured money still within its 365 days first
#[tokio::test]
async fn s8_refund_window_counts_from_the_capture_of_the_refunded_money() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-s8-lots", 1000).await;
    api.capture("order-s8-lots", 500, "c-day0").await.unwrap();
    sim.advance_clock(150 * DAY);
    api.capture("order-s8-lots", 500, "c-day150").await.unwrap();
    sim.advance_clock(150 * DAY);
    // day 300: taken from the day-0 capture, which keeps 200 unrefunded
    api.refund("order-s8-lots", 300, "r-day300").await.expect("day 300");
    sim.advance_clock(66 * DAY);
    // day 366: the day-0 capture's 200 can no longer be refunded; the day-150 capture's 500 can
    let problem = api.refund("order-s8-lots", 501, "r-501").await.refused_as(kinds::REFUND_TOO_LATE);
    assert!(problem.detail.unwrap_or_default().contains("only 500"), "names what is still refundable");
    api.refund("order-s8-lots", 500, "r-500").await.expect("the day-150 capture's money");
    api.refund("order-s8-lots", 1, "r-1").await.refused_as(kinds::REFUND_TOO_LATE);
    api.refund("order-s8-lots", 201, "r-201").await.refused_as(kinds::REFUND_TOO_HIGH);
    let aggregate = api.payment("order-s8-lots").await.aggregate;
    assert_eq!(amounts(&aggregate), [1000, 1000, 0, 800]);
    let refunds: Vec<i64> = api
        .event_log("order-s8-lots")
        .await
        .iter()
        .filter(|e| e.name == PaymentEventName::Refunded)
        .map(|e| e.amount.value.get())
        .collect();
    assert_eq!(refunds, [300, 500]);
}

// rule S8: a refund larger than the oldest in-window capture takes the rest from the next ones,
// so what stays refundable later is counted right
#[tokio::test]
async fn s8_a_refund_spanning_captures_consumes_each_of_them() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-s8-span", 300).await;
    api.capture("order-s8-span", 100, "c-day0").await.unwrap();
    sim.advance_clock(170 * DAY);
    api.capture("order-s8-span", 100, "c-day170").await.unwrap();
    sim.advance_clock(5 * DAY);
    api.capture("order-s8-span", 100, "c-day175").await.unwrap();
    sim.advance_clock(191 * DAY);
    // day 366: the day-0 lot is past its window; 150 comes from day 170 (100) and day 175 (50)
    api.refund("order-s8-span", 150, "r-150").await.expect("within the two later lots");
    // 150 is left in total, but only the day-175 lot's 50 is still refundable in time
    let problem = api.refund("order-s8-span", 100, "r-100").await.refused_as(kinds::REFUND_TOO_LATE);
    assert!(problem.detail.unwrap_or_default().contains("only 50"), "the day-175 lot's 50");
    api.refund("order-s8-span", 50, "r-50").await.expect("the rest of the day-175 lot");
}

// rule S9: the invariants hold after every step of a pseudo-random walk, and no amount decreases
#[tokio::test]
async fn s9_aggregate_invariants_hold_over_a_random_walk() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let mut seed: u64 = 0x5eed_1234;
    let mut next = move |bound: i64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 33) as i64) % bound
    };
    for payment_no in 0..4 {
        let reference = format!("order-s9-walk-{payment_no}");
        api.authorized_payment(&reference, 10_000).await;
        let mut previous = [10_000, 0, 0, 0];
        for step in 0..25 {
            let key = format!("{reference}-k{step}");
            // What the rules refuse, from the amounts before the step (the walk never waits and
            // stays in NOK, so only amount and cancel refusals can happen).
            let [authorized, captured, cancelled, refunded] = previous;
            let (outcome, refusal) = match next(10) {
                0 => {
                    let refusal = (cancelled == 0 && captured >= authorized).then_some(kinds::CANCEL_FULLY_CAPTURED);
                    (api.cancel(&reference).await, refusal)
                }
                1..=5 => {
                    let value = 1 + next(3_000);
                    let refusal = if cancelled > 0 {
                        Some(kinds::CAPTURE_AFTER_CANCEL)
                    } else {
                        (value > authorized - captured).then_some(kinds::CAPTURE_TOO_HIGH)
                    };
                    (api.capture(&reference, value, &key).await.map(|done| done.value), refusal)
                }
                _ => {
                    let value = 1 + next(3_000);
                    let refusal = (value > captured - refunded).then_some(kinds::REFUND_TOO_HIGH);
                    (api.refund(&reference, value, &key).await.map(|done| done.value), refusal)
                }
            };
            let answered = match (outcome, refusal) {
                (Ok(answer), None) => Some(answer.aggregate),
                (Err(error), Some(kind)) => {
                    problem_as(&error, kind);
                    None
                }
                (outcome, expected) => panic!("step {step} of {reference}: {outcome:?}, expected refusal {expected:?}"),
            };
            let payment = api.payment(&reference).await;
            let aggregate = &payment.aggregate;
            for amount in [
                &aggregate.authorized_amount,
                &aggregate.captured_amount,
                &aggregate.cancelled_amount,
                &aggregate.refunded_amount,
            ] {
                assert_eq!(amount.currency, Currency::Nok, "all amounts in the payment's currency");
            }
            let [authorized, captured, cancelled, refunded] = amounts(aggregate);
            assert!((0..=authorized).contains(&captured));
            assert!((0..=captured).contains(&refunded));
            assert!(captured + cancelled <= authorized);
            if cancelled > 0 {
                assert_eq!(captured + cancelled, authorized, "equal after a cancel");
            }
            let now = amounts(aggregate);
            for (before, after) in previous.iter().zip(now) {
                assert!(after >= *before, "no amount decreases: {previous:?} -> {now:?}");
            }
            if let Some(answered) = answered {
                assert_eq!(answered, *aggregate, "the answer's aggregate is the payment's");
            }
            previous = now;
        }
    }
}

// rule S10: amounts 0..65,000,000 minor units; NOK, DKK or EUR
#[tokio::test]
async fn s10_amount_bounds_and_currencies() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    // out of range: the client's amount type refuses it, so raw
    for (i, value) in [-1i64, 65_000_001].into_iter().enumerate() {
        assert!(AmountValue::new(value).is_err());
        let mut body = crate::support::payment_json(&format!("order-s10-bad-{i}"), 100);
        body["amount"]["value"] = value.into();
        api.send_raw(api.raw_create(&body, &format!("k{i}"))).await.invalid_field("amount.value");
        api.get(&format!("order-s10-bad-{i}")).await.refused_as(kinds::NOT_FOUND);
    }
    let mut max = payment_request("order-s10-max", 100);
    max.amount = money(Currency::Nok, 65_000_000);
    api.create(&max, "kmax").await.expect("the maximum");
    let mut zero = payment_request("order-s10-zero", 100);
    zero.amount = money(Currency::Nok, 0);
    api.create(&zero, "kzero").await.expect("zero is in range");
    for (i, currency) in [Currency::Dkk, Currency::Eur].into_iter().enumerate() {
        let mut request = payment_request(&format!("order-s10-cur-{i}"), 100);
        request.amount = money(currency.clone(), 100);
        api.create(&request, &format!("kc{i}")).await.expect("DKK and EUR");
        assert_eq!(api.payment(&format!("order-s10-cur-{i}")).await.amount.currency, currency);
    }
    let mut sek = payment_request("order-s10-sek", 100);
    sek.amount = money(Currency::Sek, 100);
    assert_eq!(sek.payment_method.type_, PaymentMethodType::Wallet);
    api.create(&sek, "ksek").await.invalid_field("amount.currency");
    api.get("order-s10-sek").await.refused_as(kinds::NOT_FOUND);
}

// rule S10: a capture or refund in another currency than the payment's is refused (400)
#[tokio::test]
async fn s10_adjustment_in_another_currency_is_refused() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-s10-mixed", 1000).await;
    api.capture_amount("order-s10-mixed", money(Currency::Dkk, 100), "c1").await.invalid_field("modificationAmount.currency");
    api.capture("order-s10-mixed", 0, "c0").await.invalid_field("modificationAmount.value"); // a capture of nothing
    api.capture("order-s10-mixed", 100, "c2").await.unwrap();
    api.refund_amount("order-s10-mixed", money(Currency::Eur, 50), "r1").await.invalid_field("modificationAmount.currency");
    assert_eq!(amounts(&api.payment("order-s10-mixed").await.aggregate), [1000, 100, 0, 0]);
}
