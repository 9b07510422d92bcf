//! Rate limits (rule S13) and polling (rule S15). The clients here retry nothing, so each 429 is
//! seen as it is.

use std::time::Duration;

use vipps_contract_tests::sim::RateLimits;
use vipps_epayment::epayment::State;
use vipps_epayment::runtime::PollPolicy;
use vipps_epayment::Error;

use crate::support::{Api, Outcome, error_header, fast_poll, kinds, payment_request, problem_as, reference, test_builder};

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
        api.capture("order-s13-mods", 10, &format!("c{i}")).await.expect("within the budget");
    }
    let refused = api.capture("order-s13-mods", 10, "c5").await.refused();
    problem_as(&refused, kinds::RATE_LIMITED);
    assert_eq!(error_header(&refused, "retry-after").as_deref(), Some("60"));
    assert_eq!(api.payment("order-s13-mods").await.aggregate.captured_amount.value.get(), 50);
    // per reference, and per operation
    api.capture("order-s13-other", 10, "other-c0").await.expect("another reference");
    api.refund("order-s13-mods", 10, "r0").await.expect("another operation");
    sim.advance_clock(Duration::from_secs(30));
    let refused = api.capture("order-s13-mods", 10, "c6").await.refused();
    problem_as(&refused, kinds::RATE_LIMITED);
    assert_eq!(error_header(&refused, "retry-after").as_deref(), Some("30"));
    sim.advance_clock(Duration::from_secs(30));
    api.capture("order-s13-mods", 10, "c7").await.expect("a new minute");
    assert_eq!(api.payment("order-s13-mods").await.aggregate.captured_amount.value.get(), 60);
}

// rule S13: the create budget counts per reference too
#[tokio::test]
async fn s13_creates_are_limited_per_reference() {
    let sim = limited(RateLimits::documented()).await;
    let api = Api::connect(&sim).await;
    let request = payment_request("order-s13-create", 1000);
    api.create(&request, "k0").await.expect("first create");
    for i in 1..5 {
        api.create(&request, &format!("k{i}")).await.refused_as(kinds::REFERENCE_USED);
    }
    api.create(&request, "k5").await.refused_as(kinds::RATE_LIMITED);
    api.create(&payment_request("order-s13-create2", 1000), "k6").await.expect("another reference");
}

// rule S13: get and the event log 120 per minute per reference
#[tokio::test]
async fn s13_reads_are_limited_to_120_per_minute_per_reference() {
    let sim = limited(RateLimits::documented()).await;
    let api = Api::connect(&sim).await;
    api.create_payment("order-s13-reads", 1000).await;
    for _ in 0..120 {
        api.payment("order-s13-reads").await;
    }
    let refused = api.get("order-s13-reads").await.refused();
    problem_as(&refused, kinds::RATE_LIMITED);
    // all 120 reads came at the same (frozen) instant: the first slot frees in 60 s
    assert_eq!(error_header(&refused, "retry-after").as_deref(), Some("60"));
    api.event_log("order-s13-reads").await;
    sim.advance_clock(Duration::from_secs(60));
    api.payment("order-s13-reads").await;
}

// rule S13: budgets are configurable, and can be off
#[tokio::test]
async fn s13_budgets_are_configurable() {
    let sim = limited(RateLimits::per_minute(2, 3)).await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-s13-custom", 1000).await;
    api.capture("order-s13-custom", 1, "a").await.unwrap();
    api.capture("order-s13-custom", 1, "b").await.unwrap();
    api.capture("order-s13-custom", 1, "c").await.refused_as(kinds::RATE_LIMITED);
    for _ in 0..3 {
        api.payment("order-s13-custom").await;
    }
    api.get("order-s13-custom").await.refused_as(kinds::RATE_LIMITED);

    let off = limited(RateLimits::off()).await;
    let api = Api::connect(&off).await;
    api.authorized_payment("order-s13-off", 1000).await;
    for i in 0..20 {
        api.capture("order-s13-off", 1, &format!("k{i}")).await.expect("no limit");
    }
}

// rule S15: polling get every 2 s stays within the limits and sees the change
#[tokio::test]
async fn s15_polling_every_two_seconds_sees_approval_within_the_limits() {
    let sim = limited(RateLimits::documented()).await;
    let api = Api::connect(&sim).await;
    // the client's default cadence is the documented one
    let documented = PollPolicy::default();
    assert_eq!((documented.initial_delay, documented.interval), (Duration::from_secs(5), Duration::from_secs(2)));
    api.create_payment("order-s15-poll", 1000).await;
    sim.advance_clock(documented.initial_delay);
    let mut states = Vec::new();
    for poll in 0..30 {
        if poll == 10 {
            sim.approve("order-s15-poll").unwrap();
        }
        let payment = api.get("order-s15-poll").await.unwrap_or_else(|e| panic!("poll {poll}: {e}"));
        states.push(payment.state);
        sim.advance_clock(documented.interval);
    }
    assert_eq!(states[9], State::Created);
    assert_eq!(states[10], State::Authorized);
    assert_eq!(states[29], State::Authorized);
}

// rule S15: the client's poll loop waits while CREATED and returns the state the user chose
#[tokio::test]
async fn s15_client_polls_until_the_user_acts() {
    let sim = limited(RateLimits::documented()).await;
    let api = Api::connect(&sim).await; // fast poll policy: at once, then every 10 ms
    for (reference_text, approve) in [("order-s15-wait-a", true), ("order-s15-wait-r", false)] {
        api.create_payment(reference_text, 1000).await;
        let controls = sim.controls();
        let user = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(60)).await;
            if approve { controls.approve(reference_text) } else { controls.reject(reference_text) }
        });
        let payment = api.client.wait_while_created(&reference(reference_text)).await.expect("the user acts in time");
        user.await.unwrap().unwrap();
        assert_eq!(payment.state, if approve { State::Authorized } else { State::Aborted });
    }
    // nobody acts: the poll gives up after its timeout, still CREATED
    api.create_payment("order-s15-wait-n", 1000).await;
    let short = PollPolicy { timeout: Duration::from_millis(100), ..fast_poll() };
    match api.client.wait_while_created_with(&reference("order-s15-wait-n"), &short).await {
        Err(Error::PollTimedOut { state, .. }) => assert_eq!(state, State::Created.to_string()),
        other => panic!("expected the poll to time out: {other:?}"),
    }
}
