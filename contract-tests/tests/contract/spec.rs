//! The spec documents as the judge of the wire. Operations (method, path template, parameters,
//! security, request body, responses) are read from `spec/epayment.yaml` and
//! `spec/access-token.yaml` themselves, and JSON is validated with the independent JSON Schema
//! validator fed from those documents (`vipps_codegen::json_schema`), never with the generated
//! serde types or the generated operation tables, so a generator bug cannot hide itself.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;
use vipps_codegen::json_schema::SpecSchemas;
use vipps_codegen::{RemoteRefMap, resolve_file};

use crate::recorder::{Answer, Exchange};

/// Statuses the rulebook's outcome table (and the simulator's fault injection) answer although
/// an operation may not document them: they must still carry a spec `Problem` body.
pub const RULEBOOK_STATUSES: &[u16] = &[400, 401, 403, 404, 409, 423, 429, 503];

/// One parameter of an operation.
#[derive(Debug, Clone)]
pub struct Param {
    /// Wire name.
    pub name: String,
    /// `path`, `header`, `query` or `cookie`.
    pub location: String,
    /// `required`.
    pub required: bool,
    /// JSON pointer of its schema.
    pub schema: Option<String>,
}

/// Media types of a body, each with the JSON pointer of its schema (when it has one).
pub type Content = Vec<(String, Option<String>)>;

/// One operation as the spec declares it.
#[derive(Debug, Clone)]
pub struct SpecOperation {
    doc: usize,
    /// `operationId`.
    pub id: String,
    /// Upper-case method.
    pub method: String,
    /// Path template including the server URL's path (`/epayment/v1/payments/{Reference}`).
    pub path: String,
    /// Path-level and operation-level parameters.
    pub params: Vec<Param>,
    /// Header that carries the security scheme (`Authorization`), when secured.
    pub security_header: Option<String>,
    /// Request body: whether required, and (media type, schema pointer) pairs.
    pub body: Option<(bool, Content)>,
    /// Status key -> (media type, schema pointer) pairs.
    pub responses: Vec<(String, Content)>,
}

impl SpecOperation {
    /// Whether the operation declares a header parameter `name`.
    pub fn declares_header(&self, name: &str) -> bool {
        self.params.iter().any(|p| p.location == "header" && p.name.eq_ignore_ascii_case(name))
    }
}

struct Doc {
    bundled: Value,
    schemas: SpecSchemas,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

/// Both spec documents, their operations and cached validators.
pub struct Spec {
    docs: Vec<Doc>,
    /// Every operation of both documents.
    pub operations: Vec<SpecOperation>,
}

/// The spec, loaded once per test binary.
pub fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(Spec::load)
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Follows a local `$ref` (once or repeatedly); returns the node and its pointer.
fn deref<'a>(root: &'a Value, mut node: &'a Value, mut pointer: String) -> (&'a Value, String) {
    while let Some(target) = node.get("$ref").and_then(Value::as_str) {
        let target = target.trim_start_matches('#');
        node = root.pointer(target).unwrap_or_else(|| panic!("spec: dangling $ref {target}"));
        pointer = target.to_string();
    }
    (node, pointer)
}

fn content(node: &Value, pointer: &str) -> Content {
    let Some(media) = node.get("content").and_then(Value::as_object) else { return Vec::new() };
    media
        .iter()
        .map(|(media_type, entry)| {
            let schema = entry.get("schema").map(|_| format!("{pointer}/content/{}/schema", escape(media_type)));
            (media_type.clone(), schema)
        })
        .collect()
}

fn server_path(doc: &Value) -> String {
    let url = doc.pointer("/servers/0/url").and_then(Value::as_str).unwrap_or("");
    let after_scheme = url.find("://").map_or(url, |i| &url[i + 3..]);
    after_scheme.find('/').map_or(String::new(), |i| after_scheme[i..].trim_end_matches('/').to_string())
}

fn operations_of(index: usize, root: &Value) -> Vec<SpecOperation> {
    let prefix = server_path(root);
    let schemes = root.pointer("/components/securitySchemes").cloned().unwrap_or(Value::Null);
    let mut out = Vec::new();
    let Some(paths) = root.get("paths").and_then(Value::as_object) else { return out };
    for (template, item) in paths {
        let item_pointer = format!("/paths/{}", escape(template));
        for method in ["get", "put", "post", "delete", "patch"] {
            let Some(operation) = item.get(method) else { continue };
            let op_pointer = format!("{item_pointer}/{method}");
            let mut params = Vec::new();
            for (list, list_pointer) in [(item.get("parameters"), &item_pointer), (operation.get("parameters"), &op_pointer)] {
                for (i, param) in list.and_then(Value::as_array).into_iter().flatten().enumerate() {
                    let (param, pointer) = deref(root, param, format!("{list_pointer}/parameters/{i}"));
                    let name = param["name"].as_str().unwrap_or_default().to_string();
                    params.retain(|p: &Param| !p.name.eq_ignore_ascii_case(&name));
                    params.push(Param {
                        name,
                        location: param["in"].as_str().unwrap_or_default().to_string(),
                        required: param["required"].as_bool().unwrap_or(false),
                        schema: param.get("schema").map(|_| format!("{pointer}/schema")),
                    });
                }
            }
            let security = operation.get("security").or_else(|| root.get("security"));
            let security_header = security
                .and_then(Value::as_array)
                .and_then(|list| list.first())
                .and_then(Value::as_object)
                .and_then(|requirement| requirement.keys().next())
                .and_then(|scheme| schemes.get(scheme))
                .filter(|scheme| scheme["in"] == "header" || scheme["type"] == "http")
                .map(|scheme| scheme["name"].as_str().unwrap_or("Authorization").to_string());
            let body = operation.get("requestBody").map(|body| {
                let (body, pointer) = deref(root, body, format!("{op_pointer}/requestBody"));
                (body["required"].as_bool().unwrap_or(false), content(body, &pointer))
            });
            let responses = operation
                .get("responses")
                .and_then(Value::as_object)
                .map(|responses| {
                    responses
                        .iter()
                        .map(|(status, response)| {
                            let (response, pointer) = deref(root, response, format!("{op_pointer}/responses/{status}"));
                            (status.clone(), content(response, &pointer))
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push(SpecOperation {
                doc: index,
                id: operation["operationId"].as_str().unwrap_or_default().to_string(),
                method: method.to_ascii_uppercase(),
                path: format!("{prefix}{template}"),
                params,
                security_header,
                body,
                responses,
            });
        }
    }
    out
}

/// `application/json;charset=UTF-8` -> `application/json`.
pub fn essence(media_type: &str) -> String {
    media_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// Percent-decodes a path segment.
pub fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&segment[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes everything but RFC 3986 unreserved characters (for raw requests).
pub fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

impl Spec {
    fn load() -> Spec {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("spec");
        let mut docs = Vec::new();
        let mut operations = Vec::new();
        for (index, file) in ["epayment.yaml", "access-token.yaml"].iter().enumerate() {
            let path = root.join(file);
            let resolved = resolve_file(&path, &RemoteRefMap::default()).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
            operations.extend(operations_of(index, &resolved.bundled));
            let schemas = SpecSchemas::new(&resolved.bundled).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
            docs.push(Doc { bundled: resolved.bundled, schemas, validators: Mutex::new(HashMap::new()) });
        }
        Spec { docs, operations }
    }

    /// The operation with this `operationId`.
    pub fn operation(&self, id: &str) -> &SpecOperation {
        self.operations.iter().find(|op| op.id == id).unwrap_or_else(|| panic!("spec: no operation {id}"))
    }

    /// The schema at `pointer` of the operation's document, `$ref`s followed.
    pub fn schema(&self, op: &SpecOperation, pointer: &str) -> Value {
        let root = &self.docs[op.doc].bundled;
        let node = root.pointer(pointer).unwrap_or_else(|| panic!("spec: nothing at {pointer}"));
        deref(root, node, pointer.to_string()).0.clone()
    }

    /// Whether the member at `field` (`customer`, `receipt.orderLines[0]`) of the operation's
    /// request body is a `oneOf` union in the spec.
    pub fn is_union(&self, op: &SpecOperation, field: &str) -> bool {
        let root = &self.docs[op.doc].bundled;
        let Some((_, media)) = &op.body else { return false };
        let Some(pointer) = media.iter().find_map(|(_, schema)| schema.clone()) else { return false };
        let mut node = deref(root, root.pointer(&pointer).expect("body schema"), pointer).0;
        for segment in field.split('.') {
            let (name, indexed) = match segment.find('[') {
                Some(at) => (&segment[..at], true),
                None => (segment, false),
            };
            let Some(member) = node.pointer(&format!("/properties/{}", escape(name))) else { return false };
            node = deref(root, member, String::new()).0;
            if indexed {
                let Some(items) = node.get("items") else { return false };
                node = deref(root, items, String::new()).0;
            }
        }
        node.get("oneOf").is_some()
    }

    /// Every constraint site of the operation's JSON request body, read from the spec document
    /// itself: (JSON pointer of the member inside the body, the JSON Schema keyword of the rule).
    /// This is the list a broken-body suite must cover, one entry per rule a value can break:
    ///
    /// - an object's properties: `required` for each required one, then the sites of its value
    ///   (an object itself has no `type` site: a wrong type is caught by its members);
    /// - a map (`additionalProperties`): `minProperties` (above 0), `maxProperties`, and the
    ///   sites of one entry's value, at `/broken`;
    /// - a string: `enum` and `type` when it lists values; else `pattern`, `minLength` (above
    ///   0), `maxLength`, `type`, and `format` for `date-time` without other rules;
    /// - an integer or number: `minimum` and `maximum` (those a 64-bit, or with `int32` a
    ///   32-bit, value can break), `type`; a boolean: `type`;
    /// - an array: `minItems` (above 0), `maxItems`, `type`, and the sites of its first item, at
    ///   `/0` (unless `maxItems` is 0);
    /// - a `oneOf` whose branches are objects with disjoint property names: `oneOf` at the
    ///   union, then each branch's sites (the first branch naming a member stands for it); a
    ///   `oneOf` of overlapping branches: none (a broken branch may read as another).
    pub fn constraint_sites(&self, op: &SpecOperation) -> Vec<(String, &'static str)> {
        let root = &self.docs[op.doc].bundled;
        let Some((_, media)) = &op.body else { return Vec::new() };
        let Some(pointer) = media.iter().find(|(m, _)| essence(m) == "application/json").and_then(|(_, schema)| schema.clone()) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        sites_below(root, root.pointer(&pointer).expect("body schema"), "", &mut out);
        out
    }

    /// Validates `instance` against the schema at `pointer` of the operation's document; the
    /// errors name the instance path.
    pub fn validate(&self, op: &SpecOperation, pointer: &str, instance: &Value) -> Vec<String> {
        let doc = &self.docs[op.doc];
        let validator = {
            let mut cache = doc.validators.lock().unwrap();
            cache
                .entry(pointer.to_string())
                .or_insert_with(|| Arc::new(doc.schemas.validator(pointer).unwrap_or_else(|err| panic!("{pointer}: {err}"))))
                .clone()
        };
        validator
            .iter_errors(instance)
            .map(|error| {
                let at = error.instance_path().to_string();
                if at.is_empty() { error.to_string() } else { format!("{at}: {error}") }
            })
            .collect()
    }

    /// The operation whose method and path template match, with the decoded path parameters.
    pub fn route(&self, method: &str, path: &str) -> Option<(&SpecOperation, Vec<(String, String)>)> {
        let segments: Vec<&str> = path.split('/').collect();
        self.operations.iter().filter(|op| op.method == method).find_map(|op| {
            let template: Vec<&str> = op.path.split('/').collect();
            if template.len() != segments.len() {
                return None;
            }
            let mut params = Vec::new();
            for (expected, actual) in template.iter().zip(&segments) {
                if let Some(name) = expected.strip_prefix('{').and_then(|rest| rest.strip_suffix('}')) {
                    if actual.is_empty() {
                        return None;
                    }
                    params.push((name.to_string(), percent_decode(actual)));
                } else if expected != actual {
                    return None;
                }
            }
            Some((op, params))
        })
    }

    /// Checks a request that reached the server against the operation `expected`: method and
    /// path template, path parameters, every declared header (required ones present, each
    /// valid against its schema), the security header, no `Idempotency-Key` where none is
    /// declared, no undeclared query, and the body (declared media type, valid against its
    /// schema). Returns the problems found.
    pub fn check_request(&self, exchange: &Exchange, expected: &str) -> Vec<String> {
        let mut problems = Vec::new();
        let Some((op, path_params)) = self.route(&exchange.method, &exchange.path) else {
            return vec![format!("{} {}: matches no operation of the spec", exchange.method, exchange.path)];
        };
        if op.id != expected {
            problems.push(format!("{} {}: is {}, expected {expected}", exchange.method, exchange.path, op.id));
        }
        let mut say = |problem: String| problems.push(format!("{}: {problem}", op.id));
        for param in &op.params {
            let value = match param.location.as_str() {
                "path" => path_params.iter().find(|(name, _)| *name == param.name).map(|(_, v)| v.clone()),
                "header" => exchange.header(&param.name).map(str::to_string),
                "query" => None,
                _ => continue,
            };
            match (value, &param.schema) {
                (None, _) if param.required => say(format!("required {} parameter {} is missing", param.location, param.name)),
                (None, _) => {}
                (Some(value), Some(schema)) => {
                    for error in self.validate(op, schema, &Value::String(value.clone())) {
                        say(format!("{} parameter {} = {value:?}: {error}", param.location, param.name));
                    }
                }
                (Some(_), None) => {}
            }
        }
        if !op.declares_header("Idempotency-Key") && exchange.header("Idempotency-Key").is_some() {
            say("sends an Idempotency-Key the operation does not declare".to_string());
        }
        if let Some(header) = &op.security_header {
            match exchange.header(header) {
                Some(value) if value.strip_prefix("Bearer ").is_some_and(|token| !token.trim().is_empty()) => {}
                other => say(format!("security header {header} is not `Bearer <token>` (rule T2): {other:?}")),
            }
        }
        if exchange.query.is_some() && !op.params.iter().any(|p| p.location == "query") {
            say(format!("sends a query the operation does not declare: {:?}", exchange.query));
        }
        match &op.body {
            None if !exchange.body.is_empty() => say("sends a body the operation does not declare".to_string()),
            None => {}
            Some((true, _)) if exchange.body.is_empty() => say("the required request body is missing".to_string()),
            Some((false, _)) if exchange.body.is_empty() => {}
            Some((_, media)) => {
                let sent = exchange.header("content-type").map(essence).unwrap_or_default();
                match media.iter().find(|(declared, _)| essence(declared) == sent) {
                    None => say(format!("Content-Type {sent:?} is not a declared media type {media:?}")),
                    Some((_, Some(schema))) => match exchange.json() {
                        None => say("the body is not JSON".to_string()),
                        Some(body) => {
                            for error in self.validate(op, schema, &body) {
                                say(format!("body: {error}\n  body: {body}"));
                            }
                        }
                    },
                    Some((_, None)) => {}
                }
            }
        }
        problems
    }

    /// Checks an answer of `op`: a documented status answers with the declared media type and a
    /// body valid against the declared schema; an undocumented one must be a rulebook status
    /// with a `Problem` body. Returns (documented, problems).
    pub fn check_answer(&self, op: &SpecOperation, answer: &Answer) -> (bool, Vec<String>) {
        let mut problems = Vec::new();
        let status = answer.status.to_string();
        let class = format!("{}XX", &status[..1]);
        let declared = op
            .responses
            .iter()
            .find(|(key, _)| *key == status)
            .or_else(|| op.responses.iter().find(|(key, _)| key.eq_ignore_ascii_case(&class)))
            .or_else(|| op.responses.iter().find(|(key, _)| key == "default"));
        let received = answer.header("content-type").map(essence);
        let (documented, media) = match declared {
            Some((_, media)) => (true, media.clone()),
            None if RULEBOOK_STATUSES.contains(&answer.status) && op.doc == 0 => {
                (false, vec![("application/problem+json".to_string(), Some("/components/schemas/Problem".to_string()))])
            }
            None => {
                problems.push(format!("{}: status {} is neither documented nor a rulebook outcome", op.id, answer.status));
                return (false, problems);
            }
        };
        if media.is_empty() {
            return (documented, problems);
        }
        let Some(received) = received else {
            problems.push(format!("{} {}: no Content-Type; declared {media:?}", op.id, answer.status));
            return (documented, problems);
        };
        match media.iter().find(|(declared, _)| essence(declared) == received) {
            None => problems.push(format!("{} {}: Content-Type {received:?} is not the declared {media:?}", op.id, answer.status)),
            Some((_, Some(schema))) => match answer.json() {
                None => problems.push(format!("{} {}: body is not JSON: {:?}", op.id, answer.status, String::from_utf8_lossy(&answer.body))),
                Some(body) => {
                    for error in self.validate(op, schema, &body) {
                        problems.push(format!("{} {}: body: {error}\n  body: {body}", op.id, answer.status));
                    }
                }
            },
            Some((_, None)) => {}
        }
        (documented, problems)
    }

    /// Checks every exchange: the request against the operation it reached, the answer (when
    /// there is one) against that operation's responses. Returns the problems found.
    pub fn check_exchanges(&self, exchanges: &[Exchange]) -> Vec<String> {
        let mut problems = Vec::new();
        for exchange in exchanges {
            let Some((op, _)) = self.route(&exchange.method, &exchange.path) else {
                problems.push(format!("{}: matches no operation of the spec", exchange.summary()));
                continue;
            };
            problems.extend(self.check_request(exchange, &op.id.clone()));
            if let Some(answer) = &exchange.answer {
                problems.extend(self.check_answer(op, answer).1);
            }
        }
        problems
    }
}

/// See [`Spec::constraint_sites`].
fn sites_below(root: &Value, node: &Value, at: &str, out: &mut Vec<(String, &'static str)>) {
    let (node, _) = deref(root, node, String::new());
    let mut push = |pointer: String, rule: &'static str| out.push((pointer, rule));
    if let Some(branches) = node.get("oneOf").and_then(Value::as_array) {
        let properties: Vec<Vec<String>> = branches
            .iter()
            .map(|branch| {
                let (branch, _) = deref(root, branch, String::new());
                branch.get("properties").and_then(Value::as_object).map(|p| p.keys().cloned().collect()).unwrap_or_default()
            })
            .collect();
        let all: Vec<&String> = properties.iter().flatten().collect();
        let unique: std::collections::BTreeSet<&String> = all.iter().copied().collect();
        let disjoint = properties.iter().all(|p| !p.is_empty()) && unique.len() == all.len();
        if !disjoint {
            return;
        }
        if branches.len() >= 2 {
            push(at.to_string(), "oneOf");
        }
        let mut seen = std::collections::BTreeSet::new();
        for branch in branches {
            let mut inner = Vec::new();
            sites_below(root, branch, at, &mut inner);
            out.extend(inner.into_iter().filter(|site| seen.insert(site.clone())));
        }
        return;
    }
    let kind = node.get("type").and_then(Value::as_str);
    let number = |key: &str| node.get(key).and_then(Value::as_f64);
    let count = |key: &str| node.get(key).and_then(Value::as_u64);
    match kind {
        Some("object") | None if node.get("properties").is_some() => {
            let required: Vec<&str> = node.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
            for (name, member) in node["properties"].as_object().into_iter().flatten() {
                let pointer = format!("{at}/{}", escape(name));
                if required.contains(&name.as_str()) {
                    out.push((pointer.clone(), "required"));
                }
                sites_below(root, member, &pointer, out);
            }
        }
        Some("object") => {
            let Some(value) = node.get("additionalProperties").filter(|v| v.is_object()) else { return };
            if count("minProperties").is_some_and(|min| min > 0) {
                push(at.to_string(), "minProperties");
            }
            if count("maxProperties").is_some() {
                push(at.to_string(), "maxProperties");
            }
            if count("maxProperties") != Some(0) {
                sites_below(root, value, &format!("{at}/broken"), out);
            }
        }
        Some("string") if node.get("enum").is_some() => {
            push(at.to_string(), "enum");
            push(at.to_string(), "type");
        }
        Some("string") => {
            let constrained = ["pattern", "minLength", "maxLength"].iter().any(|key| node.get(*key).is_some());
            if node.get("pattern").is_some() {
                push(at.to_string(), "pattern");
            }
            if count("minLength").is_some_and(|min| min > 0) {
                push(at.to_string(), "minLength");
            }
            if count("maxLength").is_some() {
                push(at.to_string(), "maxLength");
            }
            push(at.to_string(), "type");
            if !constrained && node.get("format").and_then(Value::as_str) == Some("date-time") {
                push(at.to_string(), "format");
            }
        }
        Some("integer") => {
            let (lowest, highest) =
                if node.get("format").and_then(Value::as_str) == Some("int32") { (f64::from(i32::MIN), f64::from(i32::MAX)) } else { (i64::MIN as f64, i64::MAX as f64) };
            if number("minimum").is_some_and(|min| min > lowest) {
                push(at.to_string(), "minimum");
            }
            if number("maximum").is_some_and(|max| max < highest) {
                push(at.to_string(), "maximum");
            }
            push(at.to_string(), "type");
        }
        Some("number") => {
            if number("minimum").is_some() {
                push(at.to_string(), "minimum");
            }
            if number("maximum").is_some() {
                push(at.to_string(), "maximum");
            }
            push(at.to_string(), "type");
        }
        Some("boolean") => push(at.to_string(), "type"),
        Some("array") => {
            if count("minItems").is_some_and(|min| min > 0) {
                push(at.to_string(), "minItems");
            }
            if count("maxItems").is_some() {
                push(at.to_string(), "maxItems");
            }
            push(at.to_string(), "type");
            if count("maxItems") != Some(0)
                && let Some(items) = node.get("items")
            {
                sites_below(root, items, &format!("{at}/0"), out);
            }
        }
        _ => {}
    }
}
