//! OpenAPI 3.0 schemas as JSON Schema (draft 4), validated with the `jsonschema` crate.
//!
//! This is the independent check of the generator: the example lint and the contract tests
//! validate JSON against the spec document itself, not against the generated serde types, so a
//! generator bug cannot hide itself.
//!
//! Translation (OpenAPI 3.0 is a draft-4 dialect):
//! - `nullable: true` adds `"null"` to `type` (and `null` to `enum`); on a schema without `type`
//!   it becomes `anyOf: [{type: null}, <schema>]`.
//! - OpenAPI-only keywords (`example`, `discriminator`, `readOnly`, `deprecated`, `x-*`...) are dropped.
//! - A `oneOf` without a discriminator whose branches are objects with disjoint, all-optional
//!   property names is read the way the API documents it (and the generator implements it):
//!   exactly one branch's properties present. Each branch gets "at least one of its properties
//!   is present" added; strictly read, such a `oneOf` matches nothing, since every object
//!   matches all of its branches.
//!
//! `$ref`s stay JSON pointers into the converted document, which is the root of every validator.

use serde_json::{Map, Value, json};

/// Keys whose value is a schema.
const SCHEMA_VALUED: &[&str] = &["items", "additionalProperties", "not"];
/// Keys whose value is a list of schemas.
const SCHEMA_LISTS: &[&str] = &["allOf", "anyOf", "oneOf"];
/// Keywords that mean nothing to draft 4 and only add noise.
/// `description` and `title` are annotations to draft 4: they validate nothing, and are most of
/// a documented schema's size.
const DROPPED: &[&str] =
    &["example", "examples", "discriminator", "readOnly", "writeOnly", "deprecated", "xml", "externalDocs", "nullable", "description", "title"];

/// Converts every schema of a bundled OpenAPI document into a copy with the document's shape,
/// so JSON pointers into it stay valid. Only what leads to a schema is copied: the scalars
/// around schemas (descriptions, names, summaries) and example values are left out (a scalar
/// list item becomes `null`, keeping the indices), which keeps the copy a fraction of the
/// document; it is alive for as long as the examples are checked. Extensions (`x-*`) are copied
/// as they are, as before.
pub fn convert_document(bundled: &Value) -> Value {
    convert_outside(bundled, bundled, &mut Vec::new())
}

/// Copies the non-schema parts of the document as far as they lead to schemas, converting
/// schemas where they sit.
fn convert_outside(node: &Value, root: &Value, path: &mut Vec<String>) -> Value {
    match node {
        Value::Object(map) => {
            let in_component_schemas = path.len() == 2 && path[0] == "components" && path[1] == "schemas";
            let mut out = Map::new();
            for (key, child) in map {
                if in_component_schemas || key == "schema" {
                    // Every component schema is a schema, whatever its name (`example` too).
                    let mut schema = child.clone();
                    convert_schema(&mut schema, root);
                    out.insert(key.clone(), schema);
                } else if key == "example" || key == "examples" || key == "x-examples" {
                    // Example values: nothing points into them.
                } else if key.starts_with("x-") {
                    // Extensions stay as they are: the example lint finds examples (and the schema
                    // beside them) inside them too, so pointers into them must resolve.
                    out.insert(key.clone(), child.clone());
                } else if child.is_object() || child.is_array() {
                    path.push(key.clone());
                    out.insert(key.clone(), convert_outside(child, root, path));
                    path.pop();
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| {
                    path.push(index.to_string());
                    let converted = convert_outside(item, root, path);
                    path.pop();
                    converted
                })
                .collect(),
        ),
        _ => Value::Null,
    }
}

/// Converts one schema (and its subschemas) in place.
pub fn convert_schema(node: &mut Value, root: &Value) {
    let Value::Object(map) = node else { return };
    if map.contains_key("$ref") {
        // In OpenAPI 3.0 the siblings of a $ref are ignored.
        map.retain(|key, _| key == "$ref");
        return;
    }
    let nullable = map.get("nullable").and_then(Value::as_bool).unwrap_or(false);
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        for property in properties.values_mut() {
            convert_schema(property, root);
        }
    }
    for key in SCHEMA_VALUED {
        if let Some(child) = map.get_mut(*key)
            && child.is_object()
        {
            convert_schema(child, root);
        }
    }
    for key in SCHEMA_LISTS {
        if let Some(Value::Array(children)) = map.get_mut(*key) {
            for child in children.iter_mut() {
                convert_schema(child, root);
            }
        }
    }
    let has_discriminator = map.contains_key("discriminator");
    map.retain(|key, _| !key.starts_with("x-") && !DROPPED.contains(&key.as_str()));
    if !has_discriminator {
        presence_one_of(map, root);
    }
    if nullable {
        match map.get_mut("type") {
            Some(Value::String(single)) => {
                let single = single.clone();
                map.insert("type".into(), json!([single, "null"]));
                if let Some(Value::Array(values)) = map.get_mut("enum")
                    && !values.contains(&Value::Null)
                {
                    values.push(Value::Null);
                }
            }
            _ => {
                let inner = Value::Object(std::mem::take(map));
                map.insert("anyOf".into(), json!([{ "type": "null" }, inner]));
            }
        }
    }
}

/// The property names of an object branch (following one `$ref` into the root).
fn branch_properties<'a>(branch: &'a Value, root: &'a Value) -> Option<Vec<String>> {
    let target = match branch.get("$ref").and_then(Value::as_str) {
        Some(reference) => root.pointer(reference.trim_start_matches('#'))?,
        None => branch,
    };
    let properties = target.get("properties")?.as_object()?;
    let required = target.get("required").and_then(Value::as_array).map_or(0, Vec::len);
    (required == 0 && !properties.is_empty()).then(|| properties.keys().cloned().collect())
}

/// Rewrites a presence-style `oneOf` (see module docs).
fn presence_one_of(map: &mut Map<String, Value>, root: &Value) {
    let Some(Value::Array(branches)) = map.get("oneOf") else { return };
    let Some(sets) = branches.iter().map(|b| branch_properties(b, root)).collect::<Option<Vec<_>>>() else { return };
    let mut seen = std::collections::BTreeSet::new();
    if sets.len() < 2 || !sets.iter().flatten().all(|name| seen.insert(name.clone())) {
        return;
    }
    let rewritten: Vec<Value> = branches
        .iter()
        .zip(&sets)
        .map(|(branch, names)| {
            let present: Vec<Value> = names.iter().map(|name| json!({ "required": [name] })).collect();
            json!({ "allOf": [branch, { "anyOf": present }] })
        })
        .collect();
    map.insert("oneOf".into(), Value::Array(rewritten));
}

/// Base URI under which a converted document is registered.
const SPEC_URI: &str = "urn:vipps-codegen:spec";

/// A converted document registered once, so validators for many of its schemas are cheap.
pub struct SpecSchemas {
    registry: jsonschema::Registry<'static>,
}

impl SpecSchemas {
    /// Converts and registers a bundled OpenAPI document.
    pub fn new(bundled: &Value) -> Result<Self, String> {
        let converted = convert_document(bundled);
        let resource = jsonschema::Draft::Draft4.create_resource(converted);
        let registry = jsonschema::Registry::new()
            .draft(jsonschema::Draft::Draft4)
            .add(SPEC_URI, resource)
            .and_then(|builder| builder.prepare())
            .map_err(|err| err.to_string())?;
        Ok(Self { registry })
    }

    /// A validator for the schema at a JSON pointer of the document.
    pub fn validator(&self, pointer: &str) -> Result<jsonschema::Validator, String> {
        let schema = json!({ "$ref": format!("{SPEC_URI}#{}", encode_fragment(pointer)) });
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .with_registry(&self.registry)
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|err| err.to_string())
    }

    /// Validates `instance` against the schema at `pointer`; the errors name the instance path.
    pub fn validate(&self, pointer: &str, instance: &Value) -> Result<(), Vec<String>> {
        let validator = self.validator(pointer).map_err(|err| vec![format!("schema does not compile: {err}")])?;
        collect_errors(&validator, instance)
    }
}

impl SpecSchemas {
    /// Validates many (schema pointer, instance) pairs with one compiled validator: the pairs
    /// become the properties of one synthetic object, so shared subschemas compile once.
    /// Returns the errors of each pair, in order.
    pub fn validate_many(&self, pairs: &[(&str, &Value)]) -> Result<Vec<Vec<String>>, String> {
        let properties: Map<String, Value> = pairs
            .iter()
            .enumerate()
            .map(|(index, (pointer, _))| (format!("e{index}"), json!({ "$ref": format!("{SPEC_URI}#{}", encode_fragment(pointer)) })))
            .collect();
        let instance: Map<String, Value> =
            pairs.iter().enumerate().map(|(index, (_, value))| (format!("e{index}"), (*value).clone())).collect();
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .with_registry(&self.registry)
            .should_validate_formats(true)
            .build(&json!({ "type": "object", "properties": properties }))
            .map_err(|err| err.to_string())?;
        let mut out = vec![Vec::new(); pairs.len()];
        for err in validator.iter_errors(&Value::Object(instance)) {
            let path = err.instance_path().to_string();
            let mut segments = path.trim_start_matches('/').splitn(2, '/');
            let index = segments.next().and_then(|head| head.strip_prefix('e')).and_then(|n| n.parse::<usize>().ok());
            let rest = segments.next().map(|rest| format!("/{rest}")).unwrap_or_default();
            if let Some(errors) = index.and_then(|index| out.get_mut(index)) {
                errors.push(if rest.is_empty() { err.to_string() } else { format!("{rest}: {err}") });
            }
        }
        Ok(out)
    }
}

/// Percent-encodes a JSON pointer for use as a URI fragment (`{`, `}`, spaces...).
fn encode_fragment(pointer: &str) -> String {
    let mut out = String::with_capacity(pointer.len());
    for byte in pointer.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn collect_errors(validator: &jsonschema::Validator, instance: &Value) -> Result<(), Vec<String>> {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|err| {
            let at = err.instance_path().to_string();
            if at.is_empty() { err.to_string() } else { format!("{at}: {err}") }
        })
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}
