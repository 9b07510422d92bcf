//! State under parallel requests (rules S7, I3, I5).

use std::collections::HashSet;

use vipps_epayment::epayment::PaymentEventName;

use crate::support::{Api, payment_request, start};

// rule S7: 64 parallel captures on one payment never capture more than was authorized
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s7_64_parallel_captures_never_exceed_the_authorized_amount() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-parallel-cap", 1000).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..64 {
        let api = api.clone();
        tasks.spawn(async move { api.capture("order-parallel-cap", 70, &format!("par-{i}")).await.status });
    }
    let mut statuses = Vec::new();
    while let Some(status) = tasks.join_next().await {
        statuses.push(status.unwrap());
    }
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(ok, 14, "1000 / 70 = 14 captures fit");
    assert!(statuses.iter().all(|s| matches!(s, 200 | 409)), "{statuses:?}");
    let payment = api.payment("order-parallel-cap").await;
    assert_eq!(payment.aggregate.captured_amount.value.get(), 980);
    let events = api.event_log("order-parallel-cap").await;
    assert_eq!(events.iter().filter(|e| e.name == PaymentEventName::Captured).count(), 14);
}

// rule I3: parallel repeats of one keyed capture capture once and all answer the same bytes
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i3_parallel_repeats_of_one_key_capture_once() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-parallel-key", 1000).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let api = api.clone();
        tasks.spawn(async move { api.capture("order-parallel-key", 100, "one-key").await });
    }
    let mut bodies = HashSet::new();
    while let Some(reply) = tasks.join_next().await {
        let reply = reply.unwrap();
        assert_eq!(reply.status, 200);
        bodies.insert(reply.body);
    }
    assert_eq!(bodies.len(), 1, "every repeat replays the same bytes");
    assert_eq!(api.payment("order-parallel-key").await.aggregate.captured_amount.value.get(), 100);
}

// rule I5: parallel creates with one reference make one payment
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i5_parallel_creates_with_one_reference_make_one_payment() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..32 {
        let api = api.clone();
        tasks.spawn(async move { api.create(&payment_request("order-parallel-ref", 1000), &format!("k{i}")).await.status });
    }
    let mut created = 0;
    while let Some(status) = tasks.join_next().await {
        match status.unwrap() {
            201 => created += 1,
            409 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(api.event_log("order-parallel-ref").await.len(), 1);
}
