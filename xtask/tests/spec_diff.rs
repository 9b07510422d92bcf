//! `cargo xtask spec diff` through the library function the command runs: the three formats,
//! `--fail-on`, errors, and the one-line summary `cargo xtask codegen` prints.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use vipps_codegen::diff::Semver;
use xtask::spec_diff::{codegen_summary, next_version, run, spec_diff};

fn fixture(name: &str) -> String {
    xtask::project_root().join("codegen/tests/fixtures/diff").join(name).display().to_string()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn the_three_formats() {
    let (old, new) = (fixture("properties.old.yaml"), fixture("properties.new.yaml"));
    let text = spec_diff(&args(&[&old, &new])).expect("text").report;
    assert!(text.starts_with("spec diff: "), "{text}");
    assert!(text.contains("schema Req, sent in requests"), "{text}");
    assert!(text.contains("major  breaking    property-added-required  Req.addedRequired: added"), "{text}");

    let markdown = spec_diff(&args(&[&old, &new, "--format", "markdown"])).expect("markdown").report;
    assert!(markdown.starts_with("## Spec diff: "), "{markdown}");
    assert!(markdown.contains("**Suggested version bump: major**"), "{markdown}");
    assert!(markdown.contains("| major | **breaking** | `property-added-required` | Req.addedRequired |"), "{markdown}");

    let json = spec_diff(&args(&[&old, &new, "--format", "json"])).expect("json").report;
    assert!(json.trim_start().starts_with('{') && json.trim_end().ends_with('}'), "{json}");
    for needle in ["\"suggested_bump\": \"major\"", "\"kind\": \"property-added-required\"", "\"wire\": \"breaking\"", "\"pointer\": "] {
        assert!(json.contains(needle), "JSON without {needle}: {json}");
    }
}

#[test]
fn fail_on_breaking_sets_the_exit_code() {
    let (old, new) = (fixture("properties.old.yaml"), fixture("properties.new.yaml"));
    let breaking = spec_diff(&args(&[&old, &new, "--fail-on", "breaking"])).expect("diff");
    assert!(breaking.failed && breaking.diff.has_breaking());
    assert_eq!(run(&args(&["diff", &old, &new, "--fail-on", "breaking"])).expect("runs"), ExitCode::FAILURE);
    // Without --fail-on a breaking diff is still a successful run.
    assert_eq!(run(&args(&["diff", &old, &new, "--format", "json"])).expect("runs"), ExitCode::SUCCESS);
    // A document against itself breaks nothing.
    assert_eq!(run(&args(&["diff", &old, &old, "--fail-on", "breaking"])).expect("runs"), ExitCode::SUCCESS);
}

#[test]
fn fail_on_breaking_passes_when_every_change_is_compatible() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("spec-diff-compatible");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let document = |extra: &str| {
        format!(
            "openapi: 3.0.3\ninfo:\n  title: T\n  version: 1.0.0\npaths:\n  /a:\n    get:\n      operationId: a\n      responses:\n        '200':\n          description: Ok\n          content:\n            application/json:\n              schema:\n                type: object\n                properties:\n                  id:\n                    type: string\n{extra}"
        )
    };
    let (old, new) = (dir.join("old.yaml"), dir.join("new.yaml"));
    std::fs::write(&old, document("")).expect("old");
    std::fs::write(&new, document("                  note:\n                    type: string\n")).expect("new");
    let (old, new) = (old.display().to_string(), new.display().to_string());
    let outcome = spec_diff(&args(&[&old, &new, "--fail-on", "breaking"])).expect("diff");
    assert!(!outcome.failed && !outcome.diff.is_empty(), "{}", outcome.report);
    assert!(outcome.report.contains("minor  compatible  property-added-optional"), "{}", outcome.report);
    assert_eq!(run(&args(&["diff", &old, &new, "--fail-on", "breaking"])).expect("runs"), ExitCode::SUCCESS);
    assert_eq!(run(&args(&["diff", &new, &old, "--fail-on", "major"])).expect("runs"), ExitCode::FAILURE);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let good = fixture("document.old.yaml");
    let err = spec_diff(&args(&[&good, &fixture("bad-ref.yaml")])).unwrap_err().to_string();
    assert!(err.contains("bad-ref.yaml:16") && err.contains("unknown $ref"), "{err}");
    assert!(spec_diff(&args(&[&good])).is_err());
    assert!(spec_diff(&args(&[&good, &good, "--format", "yaml"])).is_err());
    assert!(spec_diff(&args(&[&good, &good, "--fail-on", "sometimes"])).is_err());
    assert!(run(&args(&["merge"])).is_err());
}

#[test]
fn next_versions_follow_cargo_rules() {
    assert_eq!(next_version("0.1.0", Semver::Major), "0.2.0");
    assert_eq!(next_version("0.1.0", Semver::Minor), "0.1.1");
    assert_eq!(next_version("0.1.3", Semver::Patch), "0.1.4");
    assert_eq!(next_version("1.2.3", Semver::Major), "2.0.0");
    assert_eq!(next_version("1.2.3", Semver::Minor), "1.3.0");
    assert_eq!(next_version("1.2.3", Semver::Patch), "1.2.4");
}

/// A project root with one spec, its generated module header and its copy.
fn scratch_project(name: &str, spec: &str, copy: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&root);
    for dir in ["spec", "generated/spec", "generated/src/generated"] {
        std::fs::create_dir_all(root.join(dir)).expect("scratch dir");
    }
    let settings = "headers:\n  authorization: Authorization\n  subscription_key: Ocp-Apim-Subscription-Key\n  merchant_serial_number: Merchant-Serial-Number\n  idempotency_key: Idempotency-Key\n  system_header_prefix: Vipps-System-\nspecs:\n  - file: api.yaml\n    module: api\n";
    std::fs::write(root.join("spec/codegen.yaml"), settings).expect("settings");
    std::fs::write(root.join("spec/api.yaml"), spec).expect("spec");
    std::fs::write(root.join("generated/spec/api.yaml"), copy).expect("copy");
    let sha = vipps_codegen::sha256_hex(copy.as_bytes());
    let header = format!("// @generated by vipps-codegen from spec/api.yaml (sha256 {sha}).\n");
    std::fs::write(root.join("generated/src/generated/api.rs"), header).expect("module");
    std::fs::write(root.join("generated/Cargo.toml"), "[package]\nname = \"scratch-sdk\"\nversion = \"0.3.1\"\n").expect("manifest");
    root
}

#[test]
fn codegen_prints_a_one_line_summary_against_the_committed_copy() {
    let old = std::fs::read_to_string(fixture("properties.old.yaml")).expect("fixture");
    let new = std::fs::read_to_string(fixture("properties.new.yaml")).expect("fixture");
    let same = scratch_project("spec-diff-same", &old, &old);
    assert_eq!(codegen_summary(&same, &Default::default()), "spec diff vs generated/: no changes");

    let changed = scratch_project("spec-diff-changed", &new, &old);
    let line = codegen_summary(&changed, &Default::default());
    assert!(line.starts_with("spec diff vs generated/: 21 changes (16 major, 3 minor, 2 patch), 8 breaking on the wire"), "{line}");
    assert!(line.contains("suggested bump: major (scratch-sdk 0.3.1 -> 0.4.0)"), "{line}");
    assert!(line.contains("cargo xtask spec diff generated/spec/api.yaml spec/api.yaml"), "{line}");
    assert!(!line.contains('\n'), "{line}");
}

/// A document with one operation sending a header limited to `limit` characters.
fn header_document(operation: &str, limit: u32) -> String {
    format!("openapi: 3.0.3\ninfo: {{ title: {operation}, version: '1' }}\npaths:\n  /{operation}:\n    get:\n      operationId: {operation}\n      parameters:\n        - {{ name: X-Tag, in: header, schema: {{ type: string, maxLength: {limit} }} }}\n      responses: {{ '204': {{ description: ok }} }}\n")
}

/// Two documents that define `XTag` alike share one type (`lower::common`); when the next
/// version of one makes it differ, `a::XTag` stops being `b::XTag`: major, though the
/// document's own change (a longer limit on a header sent) is a patch.
#[test]
fn a_common_type_that_splits_makes_the_summary_major() {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("spec-diff-common");
    let _ = std::fs::remove_dir_all(&root);
    for dir in ["spec", "generated/spec", "generated/src/generated"] {
        std::fs::create_dir_all(root.join(dir)).expect("scratch dir");
    }
    let settings = "headers:\n  authorization: Authorization\n  subscription_key: Ocp-Apim-Subscription-Key\n  merchant_serial_number: Merchant-Serial-Number\n  idempotency_key: Idempotency-Key\n  system_header_prefix: Vipps-System-\nspecs:\n  - file: a.yaml\n    module: a\n  - file: b.yaml\n    module: b\n";
    std::fs::write(root.join("spec/codegen.yaml"), settings).expect("settings");
    for (module, old, new) in [("a", header_document("a", 30), header_document("a", 40)), ("b", header_document("b", 30), header_document("b", 30))] {
        std::fs::write(root.join(format!("spec/{module}.yaml")), &new).expect("spec");
        std::fs::write(root.join(format!("generated/spec/{module}.yaml")), &old).expect("copy");
        let header = format!("// @generated by vipps-codegen from spec/{module}.yaml (sha256 {}).\n", vipps_codegen::sha256_hex(old.as_bytes()));
        std::fs::write(root.join(format!("generated/src/generated/{module}.rs")), header).expect("module");
    }
    std::fs::write(root.join("generated/Cargo.toml"), "[package]\nname = \"scratch-sdk\"\nversion = \"0.3.1\"\n").expect("manifest");
    let line = codegen_summary(&root, &Default::default());
    assert!(line.starts_with("spec diff vs generated/: 2 changes (1 major, 1 patch)"), "{line}");
    assert!(line.contains("suggested bump: major (scratch-sdk 0.3.1 -> 0.4.0)"), "{line}");
    assert!(line.contains("; one type a::XTag = b::XTag -> separate types (major"), "{line}");
}
