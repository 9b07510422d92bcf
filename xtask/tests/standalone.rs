//! Generated code compiles warning-free and clippy-clean outside the workspace: every Vipps
//! document in `../shared` (ePayment 1.4.1 with its remote `Receipt` mapped to the Order
//! Management document) and every construct fixture each become a standalone crate (models,
//! client, glue, strategies) that `cargo clippy -D warnings` accepts; and the project's own
//! generated crate is clippy-clean.

use std::path::{Path, PathBuf};
use std::process::Command;

use vipps_codegen::output::{OutputMode, write_or_check};
use vipps_codegen::{RemoteRefMap, StandaloneOptions, generate_standalone};

const ORDER_MANAGEMENT_URL: &str =
    "https://raw.githubusercontent.com/vippsas/vipps-order-management-api/2.3.24/docs/swagger.yaml";

fn target_dir() -> PathBuf {
    std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| xtask::project_root().join("target"))
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Generates `spec` into `target/standalone/<name>` (a crate outside any workspace) and runs
/// `cargo clippy --all-targets --all-features -D warnings` on it (rustc's warnings included);
/// panics with cargo's output. Checks that every operation of the document has a client method
/// (merchant-served ones aside). Returns the generation's lints, one `name: count` line each.
fn build_standalone(name: &str, spec: &Path, refs: &RemoteRefMap) -> String {
    let out = target_dir().join("standalone").join(name);
    let options = StandaloneOptions { crate_name: Some(name.to_string()), remote_refs: refs.clone(), ..StandaloneOptions::default() };
    let generation = generate_standalone(spec, &options).unwrap_or_else(|err| panic!("{name}: {err}"));
    let mut lints = std::collections::BTreeMap::new();
    for warning in &generation.warnings {
        *lints.entry(warning.lint.name()).or_insert(0) += 1;
    }
    let api = &generation.apis[0];
    assert_eq!(api.operations.len(), document_operations(spec), "{name}: every operation of the document is lowered");
    let served = api.operations.iter().filter(|op| !op.merchant_served).count();
    let client = generation
        .files
        .iter()
        .find(|file| file.path.ends_with(format!("{}_client.rs", api.module)))
        .unwrap_or_else(|| panic!("{name}: no client module"));
    let methods = client.contents.matches(" async fn ").count();
    assert_eq!(methods, served, "{name}: one client method per operation the client calls");
    write_or_check(&out, &generation.files, &["src", "spec"], OutputMode::Write).expect("writes the crate");
    // Same dependency versions as the workspace, so the build needs no registry access.
    std::fs::copy(xtask::project_root().join("Cargo.lock"), out.join("Cargo.lock")).expect("copies Cargo.lock");
    let output = cargo()
        .args(["clippy", "--offline", "--quiet", "--all-targets", "--all-features", "--", "-D", "warnings"])
        .current_dir(&out)
        .env("CARGO_TARGET_DIR", target_dir().join("standalone-target"))
        .output()
        .expect("cargo runs");
    assert!(output.status.success(), "{name} does not build warning-free:\n{}", String::from_utf8_lossy(&output.stderr));
    lints.iter().map(|(lint, count)| format!("{lint}: {count}\n")).collect()
}

/// Operations in the document as written: every method of every path item.
fn document_operations(spec: &Path) -> usize {
    let text = std::fs::read_to_string(spec).expect("reads the document");
    let document: serde_json::Value = yaml_serde::from_str(&text).expect("the document is YAML");
    let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    document["paths"]
        .as_object()
        .map(|paths| paths.values().map(|item| methods.iter().filter(|m| item.get(**m).is_some()).count()).sum())
        .unwrap_or(0)
}

fn official(name: &str) -> Option<PathBuf> {
    vipps_codegen::shared::official_document(&xtask::project_root(), name)
}

#[test]
fn official_documents_and_construct_fixtures_generate_crates_that_build() {
    if let Some(spec) = official("epayment-1.8.1.yaml") {
        let lints = build_standalone("official-epayment-1-8-1", &spec, &RemoteRefMap::default());
        insta::assert_snapshot!("official-epayment-1-8-1", lints);
    }
    if let (Some(spec), Some(receipt)) = (official("epayment-1.4.1.yaml"), official("order-management-2.3.24.yaml")) {
        let mut refs = RemoteRefMap::default();
        refs.insert_cli(&format!("{ORDER_MANAGEMENT_URL}={}", receipt.display())).unwrap();
        let lints = build_standalone("official-epayment-1-4-1", &spec, &refs);
        insta::assert_snapshot!("official-epayment-1-4-1", lints);
    }
    let fixtures = xtask::project_root().join("codegen/tests/fixtures/constructs");
    let mut specs: Vec<PathBuf> = std::fs::read_dir(&fixtures).unwrap().map(|e| e.unwrap().path()).collect();
    specs.sort();
    for spec in specs {
        let name = format!("fixture-{}", spec.file_stem().unwrap().to_string_lossy().replace('_', "-"));
        build_standalone(&name, &spec, &RemoteRefMap::default());
    }
}

/// Every other Vipps MobilePay document in `../shared` (made with the same tools as ePayment, so
/// a future ePayment version may carry their constructs) generates a crate that builds with
/// `-D warnings`; what the generator had to read through is snapshot per document.
#[test]
fn every_vipps_document_generates_a_crate_that_builds() {
    for document in [
        "access-token-2.0.0.yaml",
        "webhooks-v1.yaml",
        "order-management-2.3.24.yaml",
        "more/checkout-v3.yaml",
        "more/partner-2.0.0.yaml",
        "more/qr-1.0.yaml",
        "more/recurring-2.6.17.yaml",
    ] {
        let Some(spec) = official(document) else { return };
        let name = format!("official-{}", document.trim_start_matches("more/").trim_end_matches(".yaml").replace('.', "-"));
        let lints = build_standalone(&name, &spec, &RemoteRefMap::default());
        insta::assert_snapshot!(name, lints);
    }
}

#[test]
fn generated_crate_is_warning_free_and_clippy_clean() {
    let output = cargo()
        .args(["clippy", "--quiet", "-p", "vipps-epayment", "--all-targets", "--", "-D", "warnings"])
        .current_dir(xtask::project_root())
        .output()
        .expect("cargo clippy runs");
    assert!(output.status.success(), "clippy:\n{}", String::from_utf8_lossy(&output.stderr));
}
