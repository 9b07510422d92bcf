//! Snapshot of the emitted proptest strategies for one small request-body fixture
//! (fixtures/strategies/request_body.yaml): valid strategies of the body and parameter types,
//! the branch strategies of a union, and one broken strategy per constraint site. That the
//! project's strategies compile and keep their laws is checked by `generated/tests/strategies.rs`.

use std::path::Path;

use vipps_codegen::{HeaderRoles, RemoteRefMap, Settings, emit, format, lower_file};

fn render(path: &Path) -> String {
    let mut settings = Settings::defaults_for(HeaderRoles::default());
    settings.merchant_served_tags = vec!["Merchant Endpoints".to_string()];
    let (_, api) = lower_file(path, &settings, "api", &RemoteRefMap::default()).expect("fixture lowers");
    let tokens = emit::emit_strategies_module(&api, "request_body.yaml");
    format::format_file(tokens, &[]).expect("strategies format")
}

#[test]
fn strategies_of_a_request_body_match_the_snapshot() {
    let source = render(Path::new("tests/fixtures/strategies/request_body.yaml"));
    // The merchant-served callback's body is not a client request.
    assert!(!source.contains("fn callback()"), "{source}");
    insta::assert_snapshot!("request_body", source);
}

#[test]
fn types_in_a_cycle_are_left_out_and_named() {
    let source = render(Path::new("tests/fixtures/strategies/cycles.yaml"));
    assert!(source.contains("Not generated, since they contain themselves (a cycle) or a type that does: `Node`, `Tree`."), "{source}");
    assert!(!source.contains("pub fn node()") && !source.contains("pub fn tree()"), "{source}");
    assert!(source.contains("pub fn broken_label()") && !source.contains("broken_tree"), "{source}");
}

#[test]
fn strategies_are_deterministic() {
    let path = Path::new("tests/fixtures/strategies/request_body.yaml");
    assert_eq!(render(path), render(path));
}
