//! State under parallel requests through one shared client (rules S7, S9, I3, I5).

use std::collections::HashSet;

use vipps_epayment::epayment::PaymentEventName;

use crate::support::{Api, kinds, payment_request, problem_as, start};

// rules S7, S9: 64 parallel captures on one payment never capture more than was authorized
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s7_64_parallel_captures_never_exceed_the_authorized_amount() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    api.authorized_payment("order-parallel-cap", 1000).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..64 {
        let api = api.clone();
        tasks.spawn(async move { api.capture("order-parallel-cap", 70, &format!("par-{i}")).await });
    }
    let mut captured_by_answers = 0;
    let mut ok = 0;
    let mut keys = HashSet::new();
    while let Some(outcome) = tasks.join_next().await {
        match outcome.unwrap() {
            Ok(done) => {
                ok += 1;
                keys.insert(done.key.as_str().to_string());
                let total = done.value.aggregate.captured_amount.value.get();
                assert!(total <= 1000, "an answer shows {total} captured of 1000");
                captured_by_answers = captured_by_answers.max(total);
            }
            Err(error) => {
                let problem = problem_as(&error, kinds::CAPTURE_TOO_HIGH);
                assert!(problem.detail.unwrap_or_default().contains("capture amount too high"));
            }
        }
    }
    assert_eq!(ok, 14, "1000 / 70 = 14 captures fit");
    assert_eq!(keys.len(), 14);
    assert_eq!(captured_by_answers, 980);
    let payment = api.payment("order-parallel-cap").await;
    assert_eq!(payment.aggregate.captured_amount.value.get(), 980);
    let events = api.event_log("order-parallel-cap").await;
    let captures: Vec<_> = events.iter().filter(|e| e.name == PaymentEventName::Captured).collect();
    assert_eq!(captures.len(), 14);
    assert!(captures.iter().all(|e| e.amount.value.get() == 70));
}

// rule I3: parallel repeats of one keyed capture capture once and all get the same answer
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
    let mut answers = Vec::new();
    while let Some(outcome) = tasks.join_next().await {
        answers.push(outcome.unwrap().expect("every repeat succeeds"));
    }
    assert!(answers.iter().all(|a| *a == answers[0]), "every repeat replays the same result");
    assert_eq!(answers[0].key.as_str(), "one-key");
    assert_eq!(answers[0].value.aggregate.captured_amount.value.get(), 100);
    assert_eq!(api.payment("order-parallel-key").await.aggregate.captured_amount.value.get(), 100);
    let events = api.event_log("order-parallel-key").await;
    assert_eq!(events.iter().filter(|e| e.name == PaymentEventName::Captured).count(), 1);
}

// rule I5: parallel creates with one reference make one payment
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i5_parallel_creates_with_one_reference_make_one_payment() {
    let sim = start().await;
    let api = Api::connect(&sim).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..32 {
        let api = api.clone();
        tasks.spawn(async move { api.create(&payment_request("order-parallel-ref", 1000 + i), &format!("k{i}")).await });
    }
    let mut created = Vec::new();
    while let Some(outcome) = tasks.join_next().await {
        match outcome.unwrap() {
            Ok(done) => created.push(done.key),
            Err(error) => {
                problem_as(&error, kinds::REFERENCE_USED);
            }
        }
    }
    assert_eq!(created.len(), 1);
    let events = api.event_log("order-parallel-ref").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].idempotency_key.as_ref().map(|k| k.as_str()), Some(created[0].as_str()));
}
