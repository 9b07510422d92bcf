//! The lint warnings of real documents, pinned: our spec, and the official ePayment 1.8.1 and
//! 1.4.1 documents with their known defects (skipped with a notice when ../shared is absent;
//! under CI, a failure).

use std::path::{Path, PathBuf};

use vipps_codegen::{HeaderRoles, RemoteRefMap, Settings, lower_file};

const ORDER_MANAGEMENT_URL: &str =
    "https://raw.githubusercontent.com/vippsas/vipps-order-management-api/2.3.24/docs/swagger.yaml";

fn warnings(path: &Path, refs: &RemoteRefMap) -> String {
    let mut settings = Settings::defaults_for(HeaderRoles::default());
    settings.merchant_served_tags = vec!["Merchant Endpoints".into()];
    let (_, api) = lower_file(path, &settings, "api", refs).expect("document lowers");
    api.warnings.iter().map(|w| format!("{w}\n")).collect::<String>()
}

fn shared(name: &str) -> Option<PathBuf> {
    // Relative to the crate, so the pinned warnings name the same path on every machine.
    vipps_codegen::shared::official_document(Path::new(".."), name)
}

#[test]
fn our_spec_warnings() {
    insta::assert_snapshot!(warnings(Path::new("../spec/epayment.yaml"), &RemoteRefMap::default()));
}

#[test]
fn official_1_8_1_warnings() {
    let Some(path) = shared("epayment-1.8.1.yaml") else { return };
    let text = warnings(&path, &RemoteRefMap::default());
    for lint in ["merchant-served-operation", "problem-json-success", "example-breaks-schema", "unknown-format"] {
        assert!(text.contains(lint), "expected a {lint} warning:\n{text}");
    }
    insta::assert_snapshot!(text);
}

#[test]
fn official_1_4_1_warnings_with_the_remote_receipt_mapped() {
    let (Some(path), Some(receipt)) = (shared("epayment-1.4.1.yaml"), shared("order-management-2.3.24.yaml")) else { return };
    let mut refs = RemoteRefMap::default();
    refs.insert_cli(&format!("{ORDER_MANAGEMENT_URL}={}", receipt.display())).unwrap();
    let text = warnings(&path, &refs);
    assert!(text.contains("required-without-property") && text.contains("paymentAction"), "{text}");
    insta::assert_snapshot!(text);
}
