//! The spec diff's version advice against an independent oracle, cargo-semver-checks, on SDK
//! crates generated from both sides of a change.
//!
//! - `every_rule_is_at_least_what_cargo_semver_checks_requires`: one item per rule of
//!   `codegen/src/diff/rules.rs` (`tests/semver/{old,new}/*.yaml`, named after the rule), all in
//!   one pair of crates, one cargo-semver-checks run; per rule, the class the diff reported is at
//!   least what cargo-semver-checks requires of the same item, and its finding is the one the
//!   rules table documents.
//! - the two "copy of our spec" cases of the evolution-safety issue, through `spec diff
//!   --semver-check` exactly as a maintainer runs it.
//!
//! cargo-semver-checks is installed by `.ci/run`; where it is missing these tests fail under CI
//! and skip with a notice elsewhere.

use std::path::{Path, PathBuf};

use vipps_codegen::diff::{Kind, Semver, diff_files_with};
use vipps_codegen::load_settings;
use xtask::semver_check::{SdkDocuments, available, semver_checks, shared_target, work_dir, write_sdk};

fn oracle_or_skip() -> bool {
    if available() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "cargo-semver-checks is not installed (CI is set): .ci/run installs it"
    );
    eprintln!("skipped: cargo-semver-checks is not installed (cargo install --locked cargo-semver-checks)");
    false
}

fn root() -> PathBuf {
    xtask::project_root()
}

fn fixtures() -> PathBuf {
    root().join("xtask/tests/semver")
}

fn pascal(kind: Kind) -> String {
    kind.name().split('-').map(|word| word[..1].to_uppercase() + &word[1..]).collect()
}

fn snake(kind: Kind) -> String {
    kind.name().replace('-', "_")
}

/// The fixture modules: every `old/*.yaml` (each has a `new/` twin).
fn fixture_modules() -> Vec<String> {
    let mut modules: Vec<String> = std::fs::read_dir(fixtures().join("old"))
        .expect("tests/semver/old")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .map(|path| path.file_stem().expect("stem").to_string_lossy().to_string())
        .collect();
    modules.sort();
    modules
}

fn documents(side: &str, modules: &[String]) -> SdkDocuments {
    let added = modules.iter().map(|module| (module.clone(), fixtures().join(side).join(format!("{module}.yaml")))).collect();
    SdkDocuments { replaced: Vec::new(), added }
}

#[test]
fn ci_installs_the_pinned_version() {
    let ci = std::fs::read_to_string(root().join(".ci/run")).expect(".ci/run");
    let pin = format!("semver_checks_version={}", xtask::semver_check::PINNED_VERSION);
    assert!(ci.contains(&pin), ".ci/run does not pin cargo-semver-checks {}", xtask::semver_check::PINNED_VERSION);
    assert!(ci.contains("cargo install --locked cargo-semver-checks"), ".ci/run does not install cargo-semver-checks");
}

#[test]
fn rule_names_do_not_shadow_each_other() {
    // Items are paired with rules by name prefix, so no rule's name may start another's.
    for a in Kind::ALL {
        for b in Kind::ALL {
            if a != b {
                assert!(!pascal(*b).starts_with(&pascal(*a)), "{} is a prefix of {}", a.name(), b.name());
            }
        }
    }
}

#[test]
fn every_rule_is_at_least_what_cargo_semver_checks_requires() {
    if !oracle_or_skip() {
        return;
    }
    let modules = fixture_modules();
    assert!(modules.len() >= 5, "fixture modules: {modules:?}");
    let work = work_dir("rules").expect("work dir");
    for side in ["old", "new"] {
        write_sdk(&root(), &work.join(side), &documents(side, &modules)).unwrap_or_else(|e| panic!("{side} SDK: {e:#}"));
    }
    let verdict = semver_checks(&work.join("old"), &work.join("new"), &shared_target()).expect("cargo semver-checks");

    let settings = load_settings(&root().join("spec/codegen.yaml")).expect("settings");
    let mut changes = Vec::new();
    for module in &modules {
        let old = fixtures().join("old").join(format!("{module}.yaml"));
        let new = fixtures().join("new").join(format!("{module}.yaml"));
        let diff = diff_files_with(&old, &new, &Default::default(), &settings).expect("spec diff");
        changes.extend(diff.changes.into_iter().map(|change| (module.clone(), change)));
    }

    let mut problems = Vec::new();
    let mut table = Vec::new();
    for kind in Kind::ALL {
        let (type_name, fn_name) = (pascal(*kind), snake(*kind));
        let camel = type_name[..1].to_lowercase() + &type_name[1..];
        let names_item = |text: &str| {
            text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .any(|word| word.starts_with(&type_name) || word.starts_with(&camel) || word.starts_with(kind.name()))
        };
        // A whole-document rule has its own module, named after it.
        let on_item: Vec<_> = changes
            .iter()
            .filter(|(module, c)| *module == fn_name || names_item(&c.group.to_string()) || names_item(&c.subject) || names_item(&c.detail))
            .map(|(_, c)| c)
            .collect();
        if !on_item.iter().any(|c| c.kind == *kind) {
            problems.push(format!("{}: the fixture item shows no such change (found {:?})", kind.name(), on_item.iter().map(|c| c.kind.name()).collect::<Vec<_>>()));
            continue;
        }
        let ours = on_item.iter().map(|c| c.semver).max().expect("one change at least");
        let required = verdict.required_for(&type_name).max(verdict.required_for(&fn_name));
        let mut lints = verdict.lints_for(&type_name);
        lints.extend(verdict.lints_for(&fn_name));
        lints.sort_unstable();
        lints.dedup();
        if required.is_some_and(|required| ours < required) {
            problems.push(format!("{}: spec diff says {ours}, cargo-semver-checks requires {} ({lints:?})", kind.name(), required.map(|r| r.to_string()).unwrap_or_default()));
        }
        let found = match required {
            None => "none".to_string(),
            Some(required) => format!("{required}: {}", lints.join(", ")),
        };
        let documented = vipps_codegen::diff::rule_of(*kind).semver_checks;
        if found != documented {
            problems.push(format!("{}: cargo-semver-checks found `{found}`, the rules table says `{documented}`", kind.name()));
        }
        table.push(format!("| `{}` | {ours} | {found} |", kind.name()));
    }
    let _ = std::fs::remove_dir_all(&work);
    println!("| rule | spec diff | cargo-semver-checks |\n|---|---|---|\n{}", table.join("\n"));
    assert!(problems.is_empty(), "{}\n\ncargo-semver-checks said:\n{}", problems.join("\n"), verdict.output);
}

/// Our spec with `edit` applied to a copy, written next to an unchanged copy.
fn spec_pair(label: &str, edit: impl Fn(&mut yaml_serde::Value)) -> (PathBuf, PathBuf, PathBuf) {
    let dir = work_dir(label).expect("work dir");
    let text = std::fs::read_to_string(root().join("spec/epayment.yaml")).expect("spec");
    let mut value: yaml_serde::Value = yaml_serde::from_str(&text).expect("yaml");
    edit(&mut value);
    let (old, new) = (dir.join("old/epayment.yaml"), dir.join("new/epayment.yaml"));
    for (path, contents) in [(&old, text), (&new, yaml_serde::to_string(&value).expect("yaml"))] {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(path, contents).expect("write");
    }
    (dir, old, new)
}

fn schema<'a>(value: &'a mut yaml_serde::Value, name: &str) -> &'a mut yaml_serde::Value {
    value.get_mut("components").and_then(|c| c.get_mut("schemas")).and_then(|s| s.get_mut(name)).unwrap_or_else(|| panic!("schema {name}"))
}

fn add_property(value: &mut yaml_serde::Value, required: bool) {
    let request = schema(value, "CreatePaymentRequest");
    let properties = request.get_mut("properties").and_then(yaml_serde::Value::as_mapping_mut).expect("properties");
    properties.insert("merchantCategoryCode".into(), yaml_serde::from_str("{type: string, maxLength: 4}").expect("schema"));
    if required {
        let list = request.get_mut("required").and_then(yaml_serde::Value::as_sequence_mut).expect("required");
        list.push("merchantCategoryCode".into());
    }
}

fn run_spec_diff(old: &Path, new: &Path) -> xtask::spec_diff::Outcome {
    let args: Vec<String> = vec![old.display().to_string(), new.display().to_string(), "--semver-check".into(), "--module".into(), "epayment".into()];
    xtask::spec_diff::spec_diff(&args).expect("spec diff --semver-check")
}

#[test]
fn an_optional_property_and_a_state_value_are_minor_for_both() {
    if !oracle_or_skip() {
        return;
    }
    let (dir, old, new) = spec_pair("additions", |value| {
        add_property(value, false);
        let state = schema(value, "State");
        state.get_mut("enum").and_then(yaml_serde::Value::as_sequence_mut).expect("enum").push("PARTIALLY_CAPTURED".into());
    });
    let outcome = run_spec_diff(&old, &new);
    let _ = std::fs::remove_dir_all(dir);
    assert_eq!(outcome.diff.summary.suggested_bump, Some(Semver::Minor), "{}", outcome.report);
    let verdict = outcome.semver.expect("a verdict");
    assert_ne!(verdict.required, Some(Semver::Major), "{}", verdict.output);
    assert!(!outcome.failed, "{}", outcome.report);
    assert!(outcome.report.contains("version advice: spec diff suggests minor"), "{}", outcome.report);
}

#[test]
fn a_required_property_is_major_for_both() {
    if !oracle_or_skip() {
        return;
    }
    let (dir, old, new) = spec_pair("required", |value| add_property(value, true));
    let outcome = run_spec_diff(&old, &new);
    let _ = std::fs::remove_dir_all(dir);
    assert_eq!(outcome.diff.summary.suggested_bump, Some(Semver::Major), "{}", outcome.report);
    let verdict = outcome.semver.expect("a verdict");
    assert_eq!(verdict.required, Some(Semver::Major), "{}", verdict.output);
    let lints = verdict.lints_for("CreatePaymentRequest");
    assert!(lints.contains(&"method_parameter_count_changed"), "{lints:?}\n{}", verdict.output);
    assert!(!outcome.failed, "{}", outcome.report);
}

#[test]
fn a_suggestion_below_the_oracle_fails_the_command() {
    // The exit rule, checked on the parser's view of a real report: a minor suggestion against a
    // major requirement is "too small".
    let text = "--- failure method_parameter_count_changed: pub method parameter count changed ---\n\nFailed in:\n  vipps_epayment::epayment::Foo::new now takes 2 parameters instead of 1, in /x/src/generated/epayment.rs:10\n\n     Summary semver requires new major version: 1 major and 0 minor checks failed\n";
    let verdict = xtask::semver_check::parse_output(text).expect("parse");
    assert_eq!(verdict.required, Some(Semver::Major));
    assert_eq!(verdict.required_for("Foo"), Some(Semver::Major));
    assert_eq!(verdict.required_for("Fo"), Some(Semver::Major), "prefix: inline types count as the item's");
    assert_eq!(verdict.required_for("Bar"), None);
    assert!(Some(Semver::Minor) < verdict.required);
}
