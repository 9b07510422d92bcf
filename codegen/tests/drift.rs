//! Our spec documents must stay structurally identical to the official ones in `../shared`:
//! same paths, operations, parameters, schemas, constraints, enums, required lists...; only the
//! prose (descriptions, summaries, examples, contact/licence) is ours.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;
use vipps_codegen::load::load_document;

/// Keys that carry prose or examples, never structure.
const PROSE: &[&str] = &["description", "summary", "example", "examples", "x-examples"];

fn official(name: &str) -> Option<PathBuf> {
    vipps_codegen::shared::official_document(&Path::new(env!("CARGO_MANIFEST_DIR")).join(".."), name)
}

fn structure(node: &Value, at_top: bool) -> Value {
    match node {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, _)| !PROSE.contains(&key.as_str()))
                .map(|(key, value)| {
                    let value = if at_top && key == "info" {
                        // Only the identity of the document is structure; contact, licence and terms are ours.
                        serde_json::json!({ "title": value.get("title"), "version": value.get("version") })
                    } else {
                        structure(value, false)
                    };
                    (key.clone(), value)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|item| structure(item, false)).collect()),
        other => other.clone(),
    }
}

/// The first place two trees differ, as a JSON pointer with both sides.
fn first_difference(a: &Value, b: &Value, pointer: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|key| match (x.get(key), y.get(key)) {
                (Some(l), Some(r)) => first_difference(l, r, &format!("{pointer}/{key}")),
                (l, r) => Some(format!("{pointer}/{key}: ours {l:?}, official {r:?}")),
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (l, r))| first_difference(l, r, &format!("{pointer}/{i}")))
        }
        _ if a == b => None,
        _ => Some(format!("{pointer}: ours {a}, official {b}")),
    }
}

fn ours(name: &str) -> Value {
    load_document(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec").join(name)).expect("our spec loads").value
}

#[test]
fn epayment_matches_the_official_1_8_1_structure() {
    let Some(path) = official("epayment-1.8.1.yaml") else { return };
    let theirs = structure(&load_document(&path).unwrap().value, true);
    let ours = structure(&ours("epayment.yaml"), true);
    assert_eq!(first_difference(&ours, &theirs, ""), None);
}

#[test]
fn webhooks_matches_the_official_v1_structure() {
    let Some(path) = official("webhooks-v1.yaml") else { return };
    let theirs = structure(&load_document(&path).unwrap().value, true);
    let ours = structure(&ours("webhooks.yaml"), true);
    assert_eq!(first_difference(&ours, &theirs, ""), None);
}

/// The parts of a document reachable from one path: that path and the components it uses.
fn restricted_to_path(document: &Value, path: &str) -> Value {
    let mut out = document.clone();
    let item = document["paths"][path].clone();
    out["paths"] = serde_json::json!({ path: item });
    let mut used = BTreeSet::new();
    let mut pending = vec![item];
    while let Some(node) = pending.pop() {
        match &node {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref")
                    && used.insert(reference.clone())
                    && let Some(target) = document.pointer(reference.trim_start_matches('#'))
                {
                    pending.push(target.clone());
                }
                pending.extend(map.values().cloned());
            }
            Value::Array(items) => pending.extend(items.iter().cloned()),
            _ => {}
        }
    }
    if let Some(Value::Object(sections)) = out.get_mut("components") {
        for (section, entries) in sections.iter_mut() {
            if let Value::Object(entries) = entries {
                entries.retain(|name, _| used.contains(&format!("#/components/{section}/{name}")));
            }
        }
        sections.retain(|_, entries| entries.as_object().is_some_and(|e| !e.is_empty()));
    }
    out
}

#[test]
fn access_token_matches_the_official_2_0_0_structure_for_the_token_call() {
    let Some(path) = official("access-token-2.0.0.yaml") else { return };
    let theirs = load_document(&path).unwrap().value;
    let mut theirs = structure(&restricted_to_path(&theirs, "/accesstoken/get"), true);
    let mut ours = structure(&ours("access-token.yaml"), true);
    // Tags are a list of names with prose; only the ones the kept operation uses carry over.
    for doc in [&mut theirs, &mut ours] {
        if let Some(Value::Object(map)) = Some(doc) {
            map.remove("tags");
        }
    }
    assert_eq!(first_difference(&ours, &theirs, ""), None);
}
