//! The spec documents (the copies in `generated/spec/`) read back as JSON, to check a recorded
//! request against the operation it is for: method, path template, declared headers, body.

use std::path::Path;

use serde_json::Value;

use super::server::Recorded;

/// A spec document.
pub fn load(file: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("spec").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn resolve<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => document.pointer(reference.trim_start_matches('#')).unwrap_or_else(|| panic!("unresolved {reference}")),
        None => value,
    }
}

/// An operation of a document, with everything a wire check needs.
#[derive(Debug)]
pub struct SpecOperation {
    pub method: String,
    /// Server path prefix + path template.
    pub path: String,
    /// Declared header parameters: (name, required, maxLength).
    pub headers: Vec<(String, bool, Option<u64>)>,
    /// The request body's media type, if a body is declared.
    pub body_media: Option<String>,
    /// Security requirements apply.
    pub secured: bool,
}

/// The operation with this `operationId`.
pub fn operation(document: &Value, operation_id: &str) -> SpecOperation {
    let server = document["servers"][0]["url"].as_str().unwrap_or("");
    let prefix = server.splitn(4, '/').nth(3).map(|p| format!("/{p}")).unwrap_or_default();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if op.get("operationId").and_then(Value::as_str) != Some(operation_id) {
                continue;
            }
            let params = item.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default().into_iter().chain(
                op.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default(),
            );
            let mut headers = Vec::new();
            for param in params {
                let param = resolve(document, &param);
                if param["in"] != "header" {
                    continue;
                }
                let schema = resolve(document, &param["schema"]);
                headers.push((
                    param["name"].as_str().unwrap_or_default().to_string(),
                    param.get("required").and_then(Value::as_bool).unwrap_or(false),
                    schema.get("maxLength").and_then(Value::as_u64),
                ));
            }
            let body_media = op
                .get("requestBody")
                .map(|body| resolve(document, body))
                .and_then(|body| body["content"].as_object())
                .and_then(|content| content.keys().next().cloned());
            let secured = match op.get("security") {
                Some(security) => security.as_array().is_some_and(|s| !s.is_empty()),
                None => document.get("security").and_then(Value::as_array).is_some_and(|s| !s.is_empty()),
            };
            return SpecOperation { method: method.to_uppercase(), path: format!("{prefix}{path}"), headers, body_media, secured };
        }
    }
    panic!("no operation {operation_id}");
}

/// Whether a concrete path fits a template (`{X}` matches one segment).
fn path_fits(template: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    let template: Vec<&str> = template.split('/').collect();
    let concrete: Vec<&str> = path.split('/').collect();
    template.len() == concrete.len()
        && template.iter().zip(&concrete).all(|(t, c)| (t.starts_with('{') && t.ends_with('}') && !c.is_empty()) || t == c)
}

/// Headers any HTTP request may carry besides the declared parameters.
const TRANSPORT_HEADERS: &[&str] = &["host", "accept", "user-agent", "content-type", "content-length"];

/// Every way `request` departs from the spec's operation (empty when it conforms).
pub fn deviations(operation: &SpecOperation, request: &Recorded) -> Vec<String> {
    let mut out = Vec::new();
    if request.method != operation.method {
        out.push(format!("method {} is not {}", request.method, operation.method));
    }
    if !path_fits(&operation.path, &request.path) {
        out.push(format!("path {} does not fit {}", request.path, operation.path));
    }
    for (name, required, max_length) in &operation.headers {
        match request.header(name) {
            None if *required => out.push(format!("required header {name} missing")),
            Some(value) if max_length.is_some_and(|max| value.chars().count() as u64 > max) => {
                out.push(format!("header {name} longer than its maxLength"))
            }
            _ => {}
        }
    }
    for (name, _) in &request.headers {
        let declared = operation.headers.iter().any(|(declared, _, _)| declared.eq_ignore_ascii_case(name));
        let transport = TRANSPORT_HEADERS.contains(&name.as_str());
        let auth = name == "authorization" && operation.secured;
        if !(declared || transport || auth) {
            out.push(format!("header {name} is not declared by the spec"));
        }
    }
    if operation.secured && !request.header("authorization").is_some_and(|v| v.starts_with("Bearer ")) {
        out.push("a secured operation without `Authorization: Bearer`".into());
    }
    match (&operation.body_media, request.body.is_empty()) {
        (None, false) => out.push("a body the spec does not declare".into()),
        (Some(media), false) if request.header("content-type") != Some(media.as_str()) => {
            out.push(format!("content type {:?} is not {media}", request.header("content-type")))
        }
        _ => {}
    }
    out
}
