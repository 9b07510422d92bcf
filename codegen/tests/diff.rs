//! Spec diff: hand-written document pairs (one per area, every change kind covered) with their
//! reports as snapshots, the laws (a document against itself is empty; swapping the documents
//! mirrors every change), located errors, and the official documents when they are present.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use vipps_codegen::diff::{Change, Format, Kind, Semver, SpecDiff, diff_files, diff_files_with, markdown_table, render};
use vipps_codegen::{ErrorKind, RemoteRefMap};

/// Fixture pairs `tests/fixtures/diff/<name>.old.yaml` -> `<name>.new.yaml`.
const PAIRS: &[&str] = &["document", "operations", "parameters", "bodies", "properties", "types", "enums", "constraints", "unions"];

fn fixture(name: &str, side: &str) -> PathBuf {
    PathBuf::from(format!("tests/fixtures/diff/{name}.{side}.yaml"))
}

/// The project's conventions (header roles, merchant tags): the fixtures use its header names.
fn project_settings() -> vipps_codegen::Settings {
    vipps_codegen::load_settings(Path::new("../spec/codegen.yaml")).expect("project settings load")
}

fn diff(old: &Path, new: &Path) -> SpecDiff {
    diff_files_with(old, new, &RemoteRefMap::default(), &project_settings())
        .unwrap_or_else(|err| panic!("diff {} -> {}: {err}", old.display(), new.display()))
}

fn diff_pair(name: &str) -> (SpecDiff, SpecDiff) {
    let (old, new) = (fixture(name, "old"), fixture(name, "new"));
    (diff(&old, &new), diff(&new, &old))
}

/// `<workspace root>/../shared`, or None (with a notice) when this machine does not have it;
/// a failure instead when `CI` is set (`vipps_codegen::shared`).
fn shared_dir() -> Option<PathBuf> {
    vipps_codegen::shared::official_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
}

#[test]
fn fixture_reports() {
    for name in PAIRS {
        let (forward, backward) = diff_pair(name);
        assert!(!forward.is_empty(), "{name}: the pair should differ");
        insta::assert_snapshot!(format!("diff_{name}"), render(&forward, Format::Text));
        insta::assert_snapshot!(format!("diff_{name}_reversed"), render(&backward, Format::Text));
    }
}

#[test]
fn every_change_kind_is_covered_by_a_fixture() {
    let mut seen = BTreeSet::new();
    for name in PAIRS {
        let (forward, backward) = diff_pair(name);
        seen.extend(forward.changes.iter().chain(&backward.changes).map(|c| c.kind));
    }
    let missing: Vec<&str> = Kind::ALL.iter().filter(|k| !seen.contains(k)).map(|k| k.name()).collect();
    assert!(missing.is_empty(), "change kinds no fixture shows: {missing:?}");
}

#[test]
fn a_document_against_itself_is_empty() {
    let mut files: Vec<PathBuf> = PAIRS.iter().flat_map(|name| [fixture(name, "old"), fixture(name, "new")]).collect();
    files.push(PathBuf::from("../spec/epayment.yaml"));
    files.push(PathBuf::from("../spec/access-token.yaml"));
    if let Some(shared) = shared_dir() {
        files.push(shared.join("vipps/epayment-1.8.1.yaml"));
        files.push(shared.join("vipps/access-token-2.0.0.yaml"));
    }
    for file in files {
        let same = diff(&file, &file);
        assert!(same.is_empty(), "{} against itself:\n{}", file.display(), render(&same, Format::Text));
        assert_eq!(same.summary.suggested_bump, None);
    }
}

/// A change seen from the other side: mirrored kind, places swapped.
fn mirrored(change: &Change) -> (Kind, Option<String>, Option<String>) {
    let pointer = |site: &Option<vipps_codegen::diff::Site>| site.as_ref().map(|s| s.pointer.clone());
    (change.kind.mirror(), pointer(&change.new), pointer(&change.old))
}

fn plain(change: &Change) -> (Kind, Option<String>, Option<String>) {
    let pointer = |site: &Option<vipps_codegen::diff::Site>| site.as_ref().map(|s| s.pointer.clone());
    (change.kind, pointer(&change.old), pointer(&change.new))
}

#[test]
fn swapping_the_documents_mirrors_every_change() {
    for name in PAIRS {
        let (forward, backward) = diff_pair(name);
        let mut expected: Vec<_> = forward.changes.iter().map(mirrored).collect();
        let mut actual: Vec<_> = backward.changes.iter().map(plain).collect();
        expected.sort();
        actual.sort();
        assert_eq!(expected, actual, "{name}: diff(new, old) is not the mirror of diff(old, new)");
    }
}

#[test]
fn every_change_is_located() {
    for name in PAIRS {
        let (forward, _) = diff_pair(name);
        for change in &forward.changes {
            for site in [&change.old, &change.new] {
                let site = site.as_ref().unwrap_or_else(|| panic!("{name}: {change:?} has no place"));
                assert!(site.line.is_some(), "{name}: no line for {} in {}", site.pointer, site.file);
            }
        }
    }
}

#[test]
fn classification_depends_on_where_the_schema_travels() {
    let (forward, _) = diff_pair("properties");
    let class = |subject: &str| {
        let change = forward.changes.iter().find(|c| c.subject == subject && c.kind == Kind::PropertyAddedRequired);
        let change = change.unwrap_or_else(|| panic!("no property-added-required at {subject}"));
        (change.semver.name(), change.wire.name())
    };
    assert_eq!(class("Req.addedRequired"), ("major", "breaking"));
    // Received only, so the wire is fine; but `new` gains an argument, so callers that build the
    // value (a server, a test) stop compiling.
    assert_eq!(class("Resp.addedRequired"), ("major", "compatible"));
    assert_eq!(class("Shared.name"), ("major", "breaking"));
    assert_eq!(class("Lonely.name"), ("major", "compatible"));
}

#[test]
fn a_moved_server_names_the_client_environment_that_now_means_another_server() {
    let mut settings = project_settings();
    settings.client.environments.insert("sandbox".into(), 2);
    let report = diff_files_with(&fixture("document", "old"), &fixture("document", "new"), &RemoteRefMap::default(), &settings).expect("diff");
    let moved = report.changes.iter().find(|c| c.kind == Kind::ServerMoved).expect("a moved server");
    assert_eq!(moved.detail, "position 2 -> 1 (environment sandbox now means another server)");
}

#[test]
fn bad_input_is_a_located_error() {
    let good = fixture("document", "old");
    let syntax = diff_files(&good, Path::new("tests/fixtures/diff/bad-syntax.yaml"), &RemoteRefMap::default()).unwrap_err();
    assert!(matches!(syntax.kind, ErrorKind::Syntax(_)), "{syntax}");
    assert!(syntax.location.line.is_some(), "{syntax}");
    assert!(syntax.to_string().starts_with("tests/fixtures/diff/bad-syntax.yaml:"), "{syntax}");

    let unknown = diff_files(Path::new("tests/fixtures/diff/bad-ref.yaml"), &good, &RemoteRefMap::default()).unwrap_err();
    assert!(matches!(unknown.kind, ErrorKind::UnknownRef(_)), "{unknown}");
    assert_eq!(unknown.location.line, Some(16), "{unknown}");
    assert!(unknown.location.pointer.ends_with("/schema/$ref"), "{unknown}");

    let missing = diff_files(&good, Path::new("tests/fixtures/diff/no-such-file.yaml"), &RemoteRefMap::default()).unwrap_err();
    assert!(matches!(missing.kind, ErrorKind::Io(_)), "{missing}");
}

#[test]
fn markdown_and_json_reports() {
    let (forward, _) = diff_pair("properties");
    insta::assert_snapshot!("diff_properties_markdown", render(&forward, Format::Markdown));
    let json: serde_json::Value = serde_json::from_str(&render(&forward, Format::Json)).expect("the JSON report parses");
    assert_eq!(json["summary"]["suggested_bump"], "major");
    assert_eq!(json["changes"].as_array().map(Vec::len), Some(forward.changes.len()));
    let first = &json["changes"][0];
    for key in ["group", "subject", "kind", "detail", "direction", "semver", "wire", "old", "new"] {
        assert!(first.get(key).is_some(), "JSON change without '{key}': {first}");
    }
    assert!(first["new"]["line"].is_u64(), "{first}");
}

#[test]
fn an_idempotency_key_gained_changes_the_method_signature() {
    // The header itself is filled by the runtime (minor), but the method's options and result
    // types change with it: major.
    let (forward, reversed) = diff_pair("parameters");
    for diff in [&forward, &reversed] {
        let change = diff
            .changes
            .iter()
            .find(|c| c.group.to_string().contains("(pay)") && c.kind == Kind::RustTypeChanged)
            .unwrap_or_else(|| panic!("no rust-type-changed for pay: {:#?}", diff.changes));
        assert_eq!(change.semver.name(), "major");
        assert!(change.detail.starts_with("method signature: "), "{}", change.detail);
    }
}

#[test]
fn the_rules_table_is_documented() {
    let docs_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/spec-evolution.md");
    let docs = std::fs::read_to_string(&docs_path).unwrap_or_default();
    let table = markdown_table();
    assert!(docs.contains(&table), "{} does not contain the current rules table; paste this in:\n{table}", docs_path.display());
}

#[test]
fn our_spec_has_no_structural_change_against_the_official_1_8_1() {
    let Some(shared) = shared_dir() else { return };
    let report = diff(Path::new("../spec/epayment.yaml"), &shared.join("vipps/epayment-1.8.1.yaml"));
    let structural: Vec<String> = report.structural().map(|c| format!("{} {}: {}", c.kind, c.subject, c.detail)).collect();
    assert!(structural.is_empty(), "spec/epayment.yaml drifted from the official 1.8.1 document:\n{}", structural.join("\n"));
    assert!(report.summary.documentation > 0, "our descriptions are our own, so some documentation differs");
    assert_eq!(report.summary.suggested_bump, Some(Semver::Patch));
}

#[test]
fn official_1_4_1_against_1_8_1_with_a_mapped_remote_ref() {
    let Some(shared) = shared_dir() else { return };
    let vipps = shared.join("vipps");
    let mut refs = RemoteRefMap::default();
    let url = "https://raw.githubusercontent.com/vippsas/vipps-order-management-api/2.3.24/docs/swagger.yaml";
    refs.insert_cli(&format!("{url}={}", vipps.join("order-management-2.3.24.yaml").display())).expect("a URL=FILE mapping");
    let old = vipps.join("epayment-1.4.1.yaml");
    let new = vipps.join("epayment-1.8.1.yaml");
    let unmapped = diff_files(&old, &new, &RemoteRefMap::default()).unwrap_err();
    assert!(matches!(unmapped.kind, ErrorKind::UnmappedRemoteRef(_)) && unmapped.location.line.is_some(), "{unmapped}");

    let report = diff_files(&old, &new, &refs).expect("1.4.1 -> 1.8.1 with the order-management document mapped");
    assert!(report.structural().count() > 0);
    assert!(report.has_breaking(), "1.4.1 -> 1.8.1 has wire-breaking changes");
    assert_eq!(report.summary.suggested_bump, Some(Semver::Major));
    for change in &report.changes {
        let site = change.new.as_ref().or(change.old.as_ref()).expect("a place");
        assert!(site.line.is_some(), "unlocated: {change:?}");
    }
    let has = |kind: Kind, subject: &str| report.changes.iter().any(|c| c.kind == kind && c.subject.starts_with(subject));
    assert!(has(Kind::BasePathChanged, "servers"), "the base path moved from paths into servers");
    assert!(has(Kind::PathParameterRenamed, "path parameter Reference"));
    assert!(has(Kind::PropertyAddedOptional, "CreatePaymentRequest.shipping"));
    // Imported remote schemas are located in the mapped document.
    assert!(report.changes.iter().any(|c| c.old.as_ref().is_some_and(|s| s.file.ends_with("order-management-2.3.24.yaml"))));
    let text = render(&report, Format::Text);
    assert!(text.contains("operation GET /v1/payments/{Reference} (getPayment)"), "{text}");
}

/// Two operations that repeat a parameter schema share one type (`lower/schema.rs`); when the
/// next document makes one differ, its method takes another type: major, though the only
/// schema change (a longer limit) would be minor on its own.
#[test]
fn a_repeat_that_starts_to_differ_is_a_major_rust_type_change() {
    let document = |b_limit: u32| {
        format!(
            "openapi: 3.0.3\ninfo: {{ title: demo, version: '1' }}\npaths:\n  /a:\n    get:\n      operationId: getA\n      parameters:\n        - {{ name: tag, in: query, schema: {{ type: string, maxLength: 30 }} }}\n      responses: {{ '204': {{ description: ok }} }}\n  /b:\n    get:\n      operationId: getB\n      parameters:\n        - {{ name: tag, in: query, schema: {{ type: string, maxLength: {b_limit} }} }}\n      responses: {{ '204': {{ description: ok }} }}\n"
        )
    };
    let dir = std::env::temp_dir().join(format!("vipps-diff-repeat-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (old, new) = (dir.join("old.yaml"), dir.join("new.yaml"));
    std::fs::write(&old, document(30)).expect("write old");
    std::fs::write(&new, document(40)).expect("write new");
    let diff = diff(&old, &new);
    std::fs::remove_dir_all(&dir).ok();
    let change = diff
        .changes
        .iter()
        .find(|c| c.kind == Kind::RustTypeChanged)
        .unwrap_or_else(|| panic!("no rust-type-changed: {:#?}", diff.changes));
    assert!(change.group.to_string().contains("(getB)"), "{}", change.group);
    assert_eq!(change.detail, "Tag -> Tag2");
    assert_eq!(change.semver, Semver::Major);
    assert_eq!(diff.summary.suggested_bump, Some(Semver::Major));
}
