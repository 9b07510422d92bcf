//! Naming: every Rust identifier comes from here, so keyword and collision rules live in one place.

use std::collections::BTreeSet;

use heck::{ToPascalCase, ToShoutySnakeCase, ToSnakeCase};

/// Rust keywords (strict and reserved) that cannot be plain identifiers.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate", "do", "dyn", "else",
    "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "macro", "match", "mod",
    "move", "mut", "override", "priv", "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait",
    "true", "try", "type", "typeof", "union", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Splits arbitrary text into identifier words: anything not alphanumeric separates words.
fn words(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' }).collect::<String>()
}

/// A PascalCase type or variant name for arbitrary text (`IMAGE/SVG+XML` -> `ImageSvgXml`).
pub fn type_name(text: &str) -> String {
    let mut name = words(text).to_pascal_case();
    if name.is_empty() {
        name = "Empty".into();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'V');
    }
    if KEYWORDS.contains(&name.as_str()) {
        name.push('_');
    }
    name
}

/// A Rust const name (`SHOUTY_SNAKE`) for a type name: `CreatePaymentRequest` -> `CREATE_PAYMENT_REQUEST`.
pub fn const_name(text: &str) -> String {
    text.to_shouty_snake_case()
}

/// A snake_case field, argument or method name (`phoneNumber` -> `phone_number`, `type` -> `type_`).
pub fn field_name(text: &str) -> String {
    let mut name = words(text).to_snake_case();
    if name.is_empty() {
        name = "field".into();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    if KEYWORDS.contains(&name.as_str()) {
        name.push('_');
    }
    name
}

/// The snake_case words of a wire name without keyword escaping, for names that get a prefix or
/// suffix (`type` -> `type`, so a method is `with_type`, not `with_type_`).
fn method_stem(wire: &str) -> String {
    let stem = words(wire).to_snake_case();
    if stem.is_empty() { "field".into() } else { stem }
}

/// The setter of an optional field (`returnUrl` -> `with_return_url`).
pub fn setter_name(wire: &str) -> String {
    format!("with_{}", method_stem(wire))
}

/// The accessor that applies a field's spec default (`type` -> `type_or_default`).
pub fn default_accessor_name(wire: &str) -> String {
    let stem = method_stem(wire);
    let stem = if stem.starts_with(|c: char| c.is_ascii_digit()) { format!("_{stem}") } else { stem };
    format!("{stem}_or_default")
}

/// The `operationId` an operation without one is given, from its method and path:
/// `delete /v1/webhooks/{id}` -> `deleteV1WebhooksById`. Stable (the route is the operation's
/// identity in the document) and distinct for distinct routes up to punctuation; the method
/// name made from it is claimed in a namespace, so it is never a duplicate.
pub fn operation_id_from_route(method: &str, path: &str) -> String {
    let mut words = vec![method.to_ascii_lowercase()];
    for segment in path.split('/').filter(|segment| !segment.is_empty()) {
        match segment.strip_prefix('{').and_then(|rest| rest.strip_suffix('}')) {
            Some(parameter) => words.push(format!("by {parameter}")),
            None => words.push(segment.to_string()),
        }
    }
    let pascal = type_name(&words.join(" "));
    let mut chars = pascal.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => pascal,
    }
}

/// True for a valid snake_case module name.
pub fn is_valid_module_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !KEYWORDS.contains(&name)
}

/// A set of names in use; `claim` returns a free one, adding 2, 3, ... on collision.
#[derive(Debug, Default, Clone)]
pub struct Namespace {
    used: BTreeSet<String>,
}

impl Namespace {
    /// A namespace with names already taken.
    pub fn with_reserved(reserved: &[&str]) -> Self {
        Self { used: reserved.iter().map(|s| s.to_string()).collect() }
    }

    /// Whether a name is taken.
    pub fn contains(&self, name: &str) -> bool {
        self.used.contains(name)
    }

    /// Claims `wanted`, or the first free `wanted2`, `wanted3`, ...
    pub fn claim(&mut self, wanted: &str) -> String {
        let mut candidate = wanted.to_string();
        let mut counter = 2;
        while self.used.contains(&candidate) {
            candidate = format!("{wanted}{counter}");
            counter += 1;
        }
        self.used.insert(candidate.clone());
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_values_that_are_not_identifiers_get_clean_names() {
        assert_eq!(type_name("IMAGE/SVG+XML"), "ImageSvgXml");
        assert_eq!(type_name("CODE 39"), "Code39");
        assert_eq!(type_name("EAN-13"), "Ean13");
        assert_eq!(type_name("CUSTOMER_NOT_PRESENT"), "CustomerNotPresent");
        assert_eq!(type_name("2XX"), "V2xx");
        assert_eq!(type_name(""), "Empty");
        assert_eq!(type_name("MSN"), "Msn");
    }

    #[test]
    fn fields_are_snake_case_and_keywords_escaped() {
        assert_eq!(field_name("phoneNumber"), "phone_number");
        assert_eq!(field_name("AddressLine1"), "address_line1");
        assert_eq!(field_name("type"), "type_");
        assert_eq!(field_name("Idempotency-Key"), "idempotency_key");
    }

    #[test]
    fn methods_of_keyword_fields_carry_no_escape() {
        assert_eq!(setter_name("type"), "with_type");
        assert_eq!(default_accessor_name("type"), "type_or_default");
        assert_eq!(setter_name("returnUrl"), "with_return_url");
        assert_eq!(default_accessor_name("3ds"), "_3ds_or_default");
    }

    #[test]
    fn operations_without_an_id_are_named_from_method_and_path() {
        assert_eq!(operation_id_from_route("get", "/v1/webhooks"), "getV1Webhooks");
        assert_eq!(operation_id_from_route("post", "/v1/webhooks"), "postV1Webhooks");
        assert_eq!(operation_id_from_route("delete", "/v1/webhooks/{id}"), "deleteV1WebhooksById");
        assert_eq!(operation_id_from_route("get", "/"), "get");
        assert_eq!(operation_id_from_route("put", "/v2/agreements/{agreementId}/charges/{chargeId}"), "putV2AgreementsByAgreementIdChargesByChargeId");
        assert_eq!(field_name(&operation_id_from_route("delete", "/v1/webhooks/{id}")), "delete_v1_webhooks_by_id");
        assert_eq!(field_name(&operation_id_from_route("get", "/v1/my-orders.json")), "get_v1_my_orders_json");
    }

    #[test]
    fn namespace_suffixes_collisions() {
        let mut names = Namespace::with_reserved(&["Other"]);
        assert_eq!(names.claim("Other"), "Other2");
        assert_eq!(names.claim("Other"), "Other3");
        assert_eq!(names.claim("Fresh"), "Fresh");
    }
}
