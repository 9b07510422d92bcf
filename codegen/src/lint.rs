//! Lints over the whole document that are not part of lowering: examples that break their own
//! schema. (The other lints are raised where lowering meets the defect.)

use serde_json::Value;

use crate::error::{Lint, Warning};
use crate::json_schema;
use crate::load::pointer_join;
use crate::resolve::Resolved;

/// One example and the schema it claims to satisfy.
#[derive(Debug, Clone, PartialEq)]
pub struct ExampleSite<'a> {
    /// JSON pointer of the example value.
    pub pointer: String,
    /// JSON pointer of the schema it illustrates.
    pub schema_pointer: String,
    /// The example value, in the document.
    pub value: &'a Value,
}

/// `x-examples` entries are written both bare and wrapped as `{value: ...}`; unwrap the latter.
fn unwrap_example(entry: &Value) -> &Value {
    match entry.as_object() {
        Some(map) if map.contains_key("value") && map.keys().all(|k| matches!(k.as_str(), "value" | "summary" | "description")) => {
            &map["value"]
        }
        _ => entry,
    }
}

/// Every example in a document: schema `example`, schema `x-examples` entries, and the
/// `example`/`examples` of media types and parameters (which illustrate their `schema`).
pub fn example_sites(bundled: &Value) -> Vec<ExampleSite<'_>> {
    let mut out = Vec::new();
    collect(bundled, bundled, "", &mut out);
    out
}

fn collect<'a>(root: &'a Value, node: &'a Value, pointer: &str, out: &mut Vec<ExampleSite<'a>>) {
    match node {
        Value::Object(map) => {
            let schema_pointer = if map.contains_key("schema") { format!("{pointer}/schema") } else { pointer.to_string() };
            if let Some(example) = map.get("example") {
                out.push(ExampleSite { pointer: format!("{pointer}/example"), schema_pointer: schema_pointer.clone(), value: example });
            }
            for key in ["examples", "x-examples"] {
                // `components/examples` holds reusable Example objects with no schema of their own;
                // they are checked where a `$ref` uses them.
                if pointer == "/components" {
                    continue;
                }
                let Some(Value::Object(entries)) = map.get(key) else { continue };
                // `examples` of a schema (JSON Schema style) is a list, not a map: not ours to read.
                for (name, entry) in entries {
                    let entry_pointer = pointer_join(&format!("{pointer}/{key}"), name);
                    let (value, value_pointer) = match entry.get("$ref").and_then(Value::as_str) {
                        Some(reference) => match root.pointer(reference.trim_start_matches('#')) {
                            Some(target) => (unwrap_example(target), entry_pointer.clone()),
                            None => continue,
                        },
                        None if key == "examples" => match entry.get("value") {
                            Some(value) => (value, format!("{entry_pointer}/value")),
                            None => continue,
                        },
                        None => (unwrap_example(entry), entry_pointer.clone()),
                    };
                    out.push(ExampleSite { pointer: value_pointer, schema_pointer: schema_pointer.clone(), value });
                }
            }
            for (key, child) in map {
                if matches!(key.as_str(), "example" | "examples" | "x-examples") {
                    continue;
                }
                collect(root, child, &pointer_join(pointer, key), out);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                collect(root, item, &format!("{pointer}/{index}"), out);
            }
        }
        _ => {}
    }
}

/// Examples checked per compiled validator (see `lint_examples`): enough that subschemas shared
/// by a document's examples compile a few times, not once per example.
const EXAMPLES_PER_VALIDATOR: usize = 64;

/// Warns about every example that does not validate against its schema.
pub fn lint_examples(resolved: &Resolved) -> Vec<Warning> {
    let sites = example_sites(&resolved.bundled);
    if sites.is_empty() {
        return Vec::new();
    }
    let schemas = match json_schema::SpecSchemas::new(&resolved.bundled) {
        Ok(schemas) => schemas,
        Err(err) => {
            return vec![Warning {
                location: resolved.location(""),
                lint: Lint::ExampleBreaksSchema,
                message: format!("examples were not checked: the document does not read as JSON Schema: {err}"),
            }];
        }
    };
    let sites: Vec<ExampleSite> = sites.into_iter().filter(|site| resolved.bundled.pointer(&site.schema_pointer).is_some()).collect();
    let pairs: Vec<(&str, &Value)> = sites.iter().map(|site| (site.schema_pointer.as_str(), site.value)).collect();
    // One compiled validator per batch: a validator holds every subschema its examples reach,
    // so one for all examples of a large document holds most of it at once.
    let mut results = Vec::with_capacity(pairs.len());
    for batch in pairs.chunks(EXAMPLES_PER_VALIDATOR) {
        match schemas.validate_many(batch) {
            Ok(batch_results) => results.extend(batch_results),
            Err(err) => {
                return vec![Warning {
                    location: resolved.location(""),
                    lint: Lint::ExampleBreaksSchema,
                    message: format!("examples were not checked: a schema does not compile: {err}"),
                }];
            }
        }
    }
    sites
        .iter()
        .zip(results)
        .filter(|(_, errors)| !errors.is_empty())
        .map(|(site, errors)| Warning {
            location: resolved.location(&site.pointer),
            lint: Lint::ExampleBreaksSchema,
            message: format!("example does not satisfy its schema: {}", errors.join("; ")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warnings(yaml: &str) -> Vec<Warning> {
        lint_examples(&crate::resolve::resolve_text(yaml).expect("resolves"))
    }

    #[test]
    fn a_schema_named_example_and_examples_inside_extensions_are_still_checked_one_by_one() {
        let yaml = r#"
openapi: 3.0.3
info: { title: t, version: '1' }
paths:
  /a:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: { $ref: '#/components/schemas/example' }
              example: 1
x-vendor:
  sample:
    schema: { type: integer }
    example: not a number
components:
  schemas:
    example: { type: string }
"#;
        let found = warnings(yaml);
        let pointers: Vec<&str> = found.iter().map(|warning| warning.location.pointer.as_str()).collect();
        assert_eq!(pointers, ["/paths/~1a/get/responses/200/content/application~1json/example", "/x-vendor/sample/example"], "{found:#?}");
        assert!(found.iter().all(|warning| warning.message.starts_with("example does not satisfy its schema")), "{found:#?}");
    }
}
