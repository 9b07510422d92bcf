//! Rate limits (rule S13) and polling (rule S15).

use std::time::Duration;

use vipps_contract_tests::sim::RateLimits;
use vipps_epayment::epayment::State;

use crate::support::{Api, payment_request, test_builder};

async fn limited(limits: RateLimits) -> vipps_contract_tests::sim::RunningSimulator {
    test_builder().rate_limits(limits).start().await.unwrap()
}

// rule S13: create, capture, cancel, refund 5 per minute per reference and MSN -> 429 + Retry-After
#[tokio::test]
async fn s13_modifications_are_limited_to_5_per_minute_per_reference() {
    let sim = limited(RateLimits::documented()).await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-s13-mods", 10_000).await;
    api.authorized_payment("order-s13-other", 10_000).await;
    for i in 0..5 {
        assert_eq!(api.capture("order-s13-mods", 10, &format!("c{i}")).await.status, 200);
    }
    let refused = api.capture("order-s13-mods", 10, "c5").await;
    refused.problem(429);
    assert_eq!(refused.header("retry-after"), Some("60"));
    assert_eq!(api.payment("order-s13-mods").await.aggregate.captured_amount.value.get(), 50);
    // per reference, and per operation
    assert_eq!(api.capture("order-s13-other", 10, "c0").await.status, 200);
    assert_eq!(api.refund("order-s13-mods", 10, "r0").await.status, 200);
    sim.advance_clock(Duration::from_secs(30));
    assert_eq!(api.capture("order-s13-mods", 10, "c6").await.header("retry-after"), Some("30"));
    sim.advance_clock(Duration::from_secs(30));
    assert_eq!(api.capture("order-s13-mods", 10, "c7").await.status, 200);
}

// rule S13: the create budget counts per reference too
#[tokio::test]
async fn s13_creates_are_limited_per_reference() {
    let sim = limited(RateLimits::documented()).await;
    let api = Api::connect(&sim).await;
    let request = payment_request("order-s13-create", 1000);
    assert_eq!(api.create(&request, "k0").await.status, 201);
    for i in 1..5 {
        api.create(&request, &format!("k{i}")).await.problem(409);
    }
    api.create(&request, "k5").await.problem(429);
    assert_eq!(api.create(&payment_request("order-s13-create2", 1000), "k6").await.status, 201);
}

// rule S13: get and the event log 120 per minute per reference
#[tokio::test]
async fn s13_reads_are_limited_to_120_per_minute_per_reference() {
    let sim = limited(RateLimits::documented()).await;
    let api = Api::connect(&sim).await;
    api.create_payment("order-s13-reads", 1000).await;
    for _ in 0..120 {
        assert_eq!(api.get("order-s13-reads").await.status, 200);
    }
    let refused = api.get("order-s13-reads").await;
    refused.problem(429);
    assert!(refused.header("retry-after").is_some());
    assert_eq!(api.events("order-s13-reads").await.status, 200);
    sim.advance_clock(Duration::from_secs(60));
    assert_eq!(api.get("order-s13-reads").await.status, 200);
}

// rule S13: budgets are configurable, and can be off
#[tokio::test]
async fn s13_budgets_are_configurable() {
    let sim = limited(RateLimits::per_minute(2, 3)).await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-s13-custom", 1000).await;
    assert_eq!(api.capture("order-s13-custom", 1, "a").await.status, 200);
    assert_eq!(api.capture("order-s13-custom", 1, "b").await.status, 200);
    api.capture("order-s13-custom", 1, "c").await.problem(429);
    for _ in 0..3 {
        assert_eq!(api.get("order-s13-custom").await.status, 200);
    }
    api.get("order-s13-custom").await.problem(429);

    let off = limited(RateLimits::off()).await;
    let api = Api::connect(&off).await;
    api.authorized_payment("order-s13-off", 1000).await;
    for i in 0..20 {
        assert_eq!(api.capture("order-s13-off", 1, &format!("k{i}")).await.status, 200);
    }
}

// rule S15: polling get every 2 s stays within the limits and sees the change
#[tokio::test]
async fn s15_polling_every_two_seconds_sees_approval_within_the_limits() {
    let sim = limited(RateLimits::documented()).await;
    let api = Api::connect(&sim).await;
    api.create_payment("order-s15-poll", 1000).await;
    sim.advance_clock(Duration::from_secs(5));
    let mut states = Vec::new();
    for poll in 0..30 {
        if poll == 10 {
            sim.approve("order-s15-poll").unwrap();
        }
        let reply = api.get("order-s15-poll").await;
        assert_eq!(reply.status, 200, "poll {poll}: {}", reply.text());
        states.push(reply.json::<vipps_epayment::epayment::GetPaymentResponse>().state);
        sim.advance_clock(Duration::from_secs(2));
    }
    assert_eq!(states[9], State::Created);
    assert_eq!(states[10], State::Authorized);
    assert_eq!(states[29], State::Authorized);
}
