//! Property: whatever single mutation is made to our spec (a node deleted, a type changed, a ref
//! broken, a node replaced by a scalar), codegen returns `Ok` or a located error (file, a JSON
//! pointer to a node of the mutated document, and that node's line); it never panics.

use std::path::PathBuf;
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;
use vipps_codegen::load::{load_document, parse_document, pointer_join};
use vipps_codegen::{HeaderRoles, RemoteRefMap, Settings, generate_module_source};

const SPEC: &str = "../spec/epayment.yaml";

/// The spec as a tree, and the pointer of every node in it.
fn spec() -> &'static (Value, Vec<String>) {
    static SPEC_TREE: OnceLock<(Value, Vec<String>)> = OnceLock::new();
    SPEC_TREE.get_or_init(|| {
        let document = load_document(SPEC.as_ref()).expect("spec loads");
        let mut pointers = Vec::new();
        collect(&document.value, String::new(), &mut pointers);
        (document.value, pointers)
    })
}

fn collect(node: &Value, pointer: String, out: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            for (key, child) in map {
                collect(child, pointer_join(&pointer, key), out);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                collect(child, format!("{pointer}/{index}"), out);
            }
        }
        _ => {}
    }
    if !pointer.is_empty() {
        out.push(pointer);
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize),
    ChangeType(usize, &'static str),
    BreakRef(usize, String),
    ReplaceWithScalar(usize, i64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let index = any::<usize>();
    prop_oneof![
        index.prop_map(Mutation::Delete),
        (index, prop::sample::select(vec!["string", "integer", "number", "boolean", "object", "array", "bogus"]))
            .prop_map(|(i, t)| Mutation::ChangeType(i, t)),
        (index, "[A-Za-z/#~]{0,12}").prop_map(|(i, r)| Mutation::BreakRef(i, r)),
        (index, any::<i64>()).prop_map(|(i, v)| Mutation::ReplaceWithScalar(i, v)),
    ]
}

/// A pointer's parent and last segment; the root ("") has no parent but itself.
fn split(pointer: &str) -> (&str, String) {
    match pointer.rfind('/') {
        Some(at) => (&pointer[..at], vipps_codegen::load::unescape_pointer_segment(&pointer[at + 1..])),
        None => ("", String::new()),
    }
}

fn apply(tree: &mut Value, pointers: &[String], mutation: &Mutation) {
    match mutation {
        Mutation::Delete(i) => {
            let (parent, last) = split(&pointers[i % pointers.len()]);
            match tree.pointer_mut(parent) {
                Some(Value::Object(map)) => {
                    map.shift_remove(&last);
                }
                Some(Value::Array(items)) => {
                    if let Ok(index) = last.parse::<usize>()
                        && index < items.len()
                    {
                        items.remove(index);
                    }
                }
                _ => {}
            }
        }
        Mutation::ChangeType(i, to) => {
            let types: Vec<&String> = pointers.iter().filter(|p| p.ends_with("/type")).collect();
            if let Some(node) = tree.pointer_mut(types[i % types.len()]) {
                *node = Value::String((*to).to_string());
            }
        }
        Mutation::BreakRef(i, target) => {
            let refs: Vec<&String> = pointers.iter().filter(|p| p.ends_with("/$ref")).collect();
            if let Some(node) = tree.pointer_mut(refs[i % refs.len()]) {
                *node = Value::String(format!("#/components/schemas/{target}"));
            }
        }
        Mutation::ReplaceWithScalar(i, value) => {
            if let Some(node) = tree.pointer_mut(&pointers[i % pointers.len()]) {
                *node = Value::from(*value);
            }
        }
    }
}

/// The error is located in the mutated document: its file, a JSON pointer naming a node that is
/// there (or, for something missing, whose parent is there), and the line of that node, whose
/// text names the node's key (or is its list item).
fn located(err: &vipps_codegen::Error, tree: &Value, text: &str) -> Result<(), TestCaseError> {
    let location = &err.location;
    prop_assert_eq!(&location.file, &PathBuf::from("mutated.yaml"));
    prop_assert!(!err.to_string().is_empty());
    let pointer = location.pointer.as_str();
    prop_assert!(pointer.is_empty() || pointer.starts_with('/'), "not a JSON pointer: {:?} ({})", pointer, err);
    let (parent, last) = split(pointer);
    let node_there = tree.pointer(pointer).is_some();
    prop_assert!(node_there || tree.pointer(parent).is_some(), "{} names a node that is not in the document: {}", pointer, err);
    let lines: Vec<&str> = text.lines().collect();
    let line = location.line.ok_or_else(|| TestCaseError::fail(format!("no line: {err}")))?;
    prop_assert!(line >= 1 && line <= lines.len(), "line {} out of range 1..={}: {}", line, lines.len(), err);
    if node_there && !pointer.is_empty() {
        let source = lines[line - 1].trim_start();
        let names_it = match tree.pointer(parent) {
            Some(Value::Array(_)) => source.starts_with('-'),
            _ => source.contains(&format!("{last}:")) || source.contains(&format!("'{last}':")) || source.contains(&format!("\"{last}\":")),
        };
        prop_assert!(names_it, "line {} ({:?}) is not the line of {}: {}", line, source, pointer, err);
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(40)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn mutated_spec_gives_ok_or_a_located_error(mutations in prop::collection::vec(mutation(), 1..3)) {
        let (tree, pointers) = spec();
        let mut tree = tree.clone();
        for mutation in &mutations {
            apply(&mut tree, pointers, mutation);
        }
        let text = yaml_serde::to_string(&tree).expect("tree serializes");
        let settings = Settings::defaults_for(HeaderRoles::default());
        let result = parse_document(PathBuf::from("mutated.yaml"), text.clone())
            .and_then(|document| generate_module_source(document, &settings, "api", &RemoteRefMap::default()));
        if let Err(err) = result {
            located(&err, &tree, &text)?;
        }
    }
}
