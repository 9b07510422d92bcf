//! Lowering of paths and operations, and the operation lints.

use std::collections::BTreeSet;

use openapiv3::{MediaType, Parameter, ParameterSchemaOrContent, PathItem, ReferenceOr, RequestBody, Schema, SchemaKind, StatusCode, Type};

use super::Lowerer;
use super::schema::NameHint;
use crate::error::{Error, ErrorKind, Lint};
use crate::ir::{BodyEncoding, HeaderRole, Operation, Param, ParamEncoding, ParamLocation, RequestBody as IrBody, Response, StatusMatch, TypeKind, TypeRef};
use crate::load::pointer_join;
use crate::names::{Namespace, field_name, operation_id_from_route, type_name};

/// The essence of a media type: `application/json;charset=UTF-8` -> `application/json`.
pub fn media_essence(media_type: &str) -> String {
    media_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

fn is_json(essence: &str) -> bool {
    essence == "application/json" || essence.ends_with("+json")
}

const PROBLEM_JSON: &str = "application/problem+json";

fn is_success(status: &StatusCode) -> bool {
    match status {
        StatusCode::Code(code) => (200..300).contains(code),
        StatusCode::Range(range) => *range == 2,
    }
}

/// Every path with its pointer, in document order. Each path item is read from the JSON tree
/// where it is used ([`path_item`]), one at a time: the typed view holds none of them.
fn paths(lowerer: &Lowerer<'_>) -> Vec<(String, String)> {
    lowerer.resolved.path_names().map(|path| (path.clone(), pointer_join("/paths", path))).collect()
}

/// The path item at `pointer`, following a `$ref`.
fn path_item(lowerer: &Lowerer<'_>, pointer: &str) -> Result<PathItem, Error> {
    Ok(lowerer.read_at::<PathItem>(pointer, pointer)?.0)
}

/// Paths declared as a callback of some operation: those are served by the merchant.
fn callback_paths(lowerer: &Lowerer<'_>) -> BTreeSet<String> {
    const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    let mut out = BTreeSet::new();
    let paths = lowerer.resolved.node("/paths").and_then(serde_json::Value::as_object).into_iter().flatten();
    let items = paths.filter(|(path, _)| crate::resolve::is_path_key(path)).map(|(_, item)| item);
    for item in items.filter(|item| item.get("$ref").is_none()) {
        for operation in METHODS.iter().filter_map(|method| item.get(method)) {
            let callbacks = operation.get("callbacks").and_then(serde_json::Value::as_object).into_iter().flat_map(|callbacks| callbacks.values());
            out.extend(callbacks.filter_map(serde_json::Value::as_object).flat_map(|callback| callback.keys().cloned()));
        }
    }
    out
}

/// Schemas served as error bodies (`application/problem+json` on a non-2xx status).
pub(super) fn problem_body_schemas(lowerer: &Lowerer<'_>) -> Result<BTreeSet<String>, Error> {
    let mut out = BTreeSet::new();
    for (_, pointer) in paths(lowerer) {
        let item = path_item(lowerer, &pointer)?;
        for (method, operation) in item.iter() {
            let operation_pointer = format!("{pointer}/{method}");
            let mut responses: Vec<(bool, String, &ReferenceOr<openapiv3::Response>)> = operation
                .responses
                .responses
                .iter()
                .map(|(status, response)| (is_success(status), format!("{operation_pointer}/responses/{status}"), response))
                .collect();
            if let Some(default) = &operation.responses.default {
                responses.push((false, format!("{operation_pointer}/responses/default"), default));
            }
            for (success, response_pointer, response) in responses {
                if success {
                    continue;
                }
                let (response, response_pointer) = lowerer.deref(response, &response_pointer)?;
                for (media, content) in &response.content {
                    if media_essence(media) != PROBLEM_JSON {
                        continue;
                    }
                    match &content.schema {
                        Some(ReferenceOr::Reference { reference }) => {
                            let (_, target) = lowerer.read_at::<Schema>(reference.trim_start_matches('#'), &response_pointer)?;
                            out.insert(target);
                        }
                        Some(ReferenceOr::Item(_)) => {
                            out.insert(format!("{}/schema", pointer_join(&format!("{response_pointer}/content"), media)));
                        }
                        None => {}
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Lowers every operation (document order), including merchant-served ones (types only).
pub(super) fn lower_operations(lowerer: &mut Lowerer<'_>) -> Result<Vec<Operation>, Error> {
    let callbacks = callback_paths(lowerer);
    let mut fn_names = Namespace::default();
    let mut operations = Vec::new();
    for (path, pointer) in paths(lowerer) {
        let item = path_item(lowerer, &pointer)?;
        for (method, operation) in item.iter() {
            let operation_pointer = format!("{pointer}/{method}");
            let merchant_tag = operation.tags.iter().find(|t| lowerer.settings.merchant_served_tags.contains(t));
            let merchant_served = callbacks.contains(&path) || merchant_tag.is_some();
            if merchant_served {
                let why = match merchant_tag {
                    Some(tag) => format!("tagged '{tag}'"),
                    None => "declared as a callback of another operation".to_string(),
                };
                lowerer.warn(
                    &operation_pointer,
                    Lint::MerchantServedOperation,
                    format!("{} {path} is served by the merchant ({why}); its types are generated, no client method", method.to_uppercase()),
                );
            }
            let id = match &operation.operation_id {
                Some(id) => id.clone(),
                None => {
                    let id = operation_id_from_route(method, &path);
                    lowerer.warn(
                        &operation_pointer,
                        Lint::MissingOperationId,
                        format!("{} {path} has no operationId; it is named `{id}` from its method and path", method.to_uppercase()),
                    );
                    id
                }
            };
            let fn_name = fn_names.claim(&field_name(&id));
            let prefix = type_name(&id);
            let mut params = lower_params(lowerer, &item, operation, &pointer, &operation_pointer)?;
            let mut authenticated = super::security::apply(lowerer, operation, &mut params);
            if lowerer.settings.client.token_operation.as_deref() == Some(id.as_str()) {
                // The token operation fetches the token: asking the cache for one would wait on
                // its own fetch.
                authenticated = false;
            }
            let body = match &operation.request_body {
                Some(body) => lower_body(lowerer, body, &format!("{operation_pointer}/requestBody"), &prefix)?,
                None => None,
            };
            let responses = lower_responses(lowerer, operation, &operation_pointer, &prefix)?;
            let doc = operation
                .description
                .as_ref()
                .or(operation.summary.as_ref())
                .map(|d| d.trim().to_string())
                .filter(|d| !d.is_empty());
            let repeatable = matches!(method.to_uppercase().as_str(), "GET" | "HEAD" | "OPTIONS")
                || lowerer.settings.client.token_operation.as_deref() == Some(id.as_str());
            operations.push(Operation {
                id,
                fn_name,
                method: method.to_uppercase(),
                path: path.clone(),
                doc,
                deprecated: operation.deprecated,
                params,
                body,
                responses,
                merchant_served,
                authenticated,
                test_only: operation.tags.iter().any(|t| lowerer.settings.test_only_tags.contains(t)),
                repeatable,
                origin: operation_pointer.clone(),
                method_plan: Default::default(),
            });
            let lowered = operations.last_mut().expect("just pushed");
            lowered.method_plan = super::method::plan(lowered);
            // Callback operations are merchant-served too; lower their types so they exist.
            for (callback_name, callback) in &operation.callbacks {
                for (expression, callback_item) in callback {
                    for (callback_method, callback_operation) in callback_item.iter() {
                        let callback_pointer = format!(
                            "{}/{callback_method}",
                            pointer_join(&pointer_join(&format!("{operation_pointer}/callbacks"), callback_name), expression)
                        );
                        let callback_prefix = type_name(callback_operation.operation_id.as_deref().unwrap_or(callback_name));
                        if let Some(body) = &callback_operation.request_body {
                            lower_body(lowerer, body, &format!("{callback_pointer}/requestBody"), &callback_prefix)?;
                        }
                        lower_responses(lowerer, callback_operation, &callback_pointer, &callback_prefix)?;
                    }
                }
            }
        }
    }
    Ok(operations)
}

fn header_role(lowerer: &Lowerer<'_>, name: &str) -> HeaderRole {
    let roles = &lowerer.settings.headers;
    let is = |wanted: &str| !wanted.is_empty() && wanted.eq_ignore_ascii_case(name);
    if is(&roles.authorization) {
        HeaderRole::Authorization
    } else if is(&roles.subscription_key) {
        HeaderRole::SubscriptionKey
    } else if is(&roles.merchant_serial_number) {
        HeaderRole::MerchantSerialNumber
    } else if is(&roles.idempotency_key) {
        HeaderRole::IdempotencyKey
    } else if is(&roles.client_id) {
        HeaderRole::ClientId
    } else if is(&roles.client_secret) {
        HeaderRole::ClientSecret
    } else if !roles.system_header_prefix.is_empty()
        && name.to_ascii_lowercase().starts_with(&roles.system_header_prefix.to_ascii_lowercase())
    {
        HeaderRole::System
    } else {
        HeaderRole::Plain
    }
}

fn lower_params(
    lowerer: &mut Lowerer<'_>,
    item: &PathItem,
    operation: &openapiv3::Operation,
    path_pointer: &str,
    operation_pointer: &str,
) -> Result<Vec<Param>, Error> {
    // Operation-level parameters override path-level ones with the same name and location.
    let mut collected: Vec<(Parameter, String)> = Vec::new();
    let sites = item
        .parameters
        .iter()
        .enumerate()
        .map(|(i, p)| (p, format!("{path_pointer}/parameters/{i}")))
        .chain(operation.parameters.iter().enumerate().map(|(i, p)| (p, format!("{operation_pointer}/parameters/{i}"))));
    for (parameter, site) in sites {
        let (parameter, real) = lowerer.deref(parameter, &site)?;
        let data = parameter.parameter_data_ref();
        let same = |other: &Parameter| {
            let other_data = other.parameter_data_ref();
            other_data.name.eq_ignore_ascii_case(&data.name) && std::mem::discriminant(other) == std::mem::discriminant(&parameter)
        };
        collected.retain(|(existing, _)| !same(existing));
        collected.push((parameter, real));
    }
    let mut names = Namespace::with_reserved(&["body", "options", "self"]);
    let mut params = Vec::new();
    for (parameter, pointer) in collected {
        let data = parameter.parameter_data_ref();
        let location = match &parameter {
            Parameter::Path { .. } => ParamLocation::Path,
            Parameter::Query { .. } => ParamLocation::Query,
            Parameter::Header { .. } => ParamLocation::Header,
            Parameter::Cookie { .. } => ParamLocation::Cookie,
        };
        // `content` (one media type with a schema) instead of `schema`: the value is sent as
        // that media type's text, JSON.
        let (schema, schema_pointer, in_content) = match &data.format {
            ParameterSchemaOrContent::Schema(schema) => (schema.clone(), format!("{pointer}/schema"), false),
            ParameterSchemaOrContent::Content(content) => match content.iter().find_map(|(media, m)| m.schema.clone().map(|s| (media.clone(), s))) {
                Some((media, schema)) => (schema, format!("{}/schema", pointer_join(&format!("{pointer}/content"), &media)), true),
                None => return Err(lowerer.error(&pointer, ErrorKind::Unsupported("a parameter whose `content` has no schema: give it a `schema`".into()))),
            },
        };
        let schema = &schema;
        let hint = NameHint::derived(type_name(&data.name));
        let ty = lowerer.lower_ref_or(schema, &schema_pointer, &hint)?;
        let role = if location == ParamLocation::Header { header_role(lowerer, &data.name) } else { HeaderRole::Plain };
        let (resolved_schema, _) = lowerer.deref(schema, &schema_pointer)?;
        let max_length = match &resolved_schema.schema_kind {
            SchemaKind::Type(Type::String(string)) => string.max_length,
            _ => None,
        };
        if let Parameter::Query { style, .. } = &parameter
            && !matches!(style, openapiv3::QueryStyle::Form)
        {
            lowerer.warn(&pointer, Lint::Ignored, format!("query style `{style:?}` is not implemented: an array is sent comma-joined, an object as JSON text"));
        }
        if let Parameter::Path { style, .. } = &parameter
            && !matches!(style, openapiv3::PathStyle::Simple)
        {
            lowerer.warn(&pointer, Lint::Ignored, format!("path style `{style:?}` is not implemented: the value is sent as `simple` (no `.` or `;name=` prefix)"));
        }
        let shape = if in_content {
            ParamShape { encoding: ParamEncoding::Json, via_slice: false, rfc3339: false }
        } else {
            param_encoding(lowerer, parameter_explode(&parameter), location, &ty, &pointer)
        };
        params.push(Param {
            wire_name: data.name.clone(),
            name: names.claim(&field_name(&data.name)),
            location,
            required: data.required || location == ParamLocation::Path,
            ty,
            role,
            max_length,
            encoding: shape.encoding,
            via_slice: shape.via_slice,
            rfc3339: shape.rfc3339,
            credential: false,
        });
    }
    Ok(params)
}

/// `explode` as written; None when the document leaves it to the style's default.
fn parameter_explode(parameter: &Parameter) -> Option<bool> {
    // A query style other than `form` has no exploded form here: it is joined (and warned about).
    let non_form_query = matches!(parameter, Parameter::Query { style, .. } if !matches!(style, openapiv3::QueryStyle::Form));
    if non_form_query { Some(false) } else { parameter.parameter_data_ref().explode }
}

/// How a parameter of type `ty` is written. Scalars are text; an array of scalars is one entry
/// per item (`form`, exploded: the default of query and cookie parameters) or comma-joined
/// (`simple`: the default of path and header parameters, or `explode: false`); anything else
/// (objects, maps, nested arrays) is sent as JSON text, with a warning, since no style of the
/// document is implemented for it.
fn param_encoding(lowerer: &mut Lowerer<'_>, explode: Option<bool>, location: ParamLocation, ty: &TypeRef, pointer: &str) -> ParamShape {
    let form = matches!(location, ParamLocation::Query | ParamLocation::Cookie);
    let shape = match value_shape(&lowerer.types, ty) {
        ValueShape::Scalar { date_time } => ParamShape { encoding: ParamEncoding::Text, via_slice: false, rfc3339: date_time },
        ValueShape::Array { item, via_slice } => match value_shape(&lowerer.types, &item) {
            ValueShape::Scalar { date_time } => {
                let encoding = if explode.unwrap_or(form) && form { ParamEncoding::Exploded } else { ParamEncoding::Joined };
                ParamShape { encoding, via_slice, rfc3339: date_time }
            }
            _ => ParamShape { encoding: ParamEncoding::Json, via_slice: false, rfc3339: false },
        },
        ValueShape::Other => ParamShape { encoding: ParamEncoding::Json, via_slice: false, rfc3339: false },
    };
    if shape.encoding == ParamEncoding::Json {
        lowerer.warn(pointer, Lint::Ignored, "a parameter that is an object or a nested array: its style is not implemented, the value is sent as JSON text".to_string());
    }
    shape
}

/// How a parameter is written: decided once, emitted as is.
pub(super) struct ParamShape {
    pub(super) encoding: ParamEncoding,
    pub(super) via_slice: bool,
    pub(super) rfc3339: bool,
}

/// What a value is, for writing it as parameter text (aliases followed).
enum ValueShape {
    /// Written by `Display` (or RFC 3339 for a date-time).
    Scalar { date_time: bool },
    /// An array of `item`, held directly or in a validated newtype.
    Array { item: TypeRef, via_slice: bool },
    /// An object, a map, a union or any JSON.
    Other,
}

fn value_shape(types: &std::collections::BTreeMap<String, crate::ir::TypeDef>, ty: &TypeRef) -> ValueShape {
    let mut ty = ty.clone();
    for _ in 0..16 {
        match &ty {
            TypeRef::Vec(item) => return ValueShape::Array { item: (**item).clone(), via_slice: false },
            TypeRef::Map(_) | TypeRef::Json => return ValueShape::Other,
            TypeRef::DateTime => return ValueShape::Scalar { date_time: true },
            TypeRef::Named(name) => match types.get(name).map(|t| &t.kind) {
                Some(TypeKind::Alias(target)) => ty = target.clone(),
                Some(TypeKind::Newtype(def)) => match &def.inner {
                    TypeRef::Vec(item) => return ValueShape::Array { item: (**item).clone(), via_slice: true },
                    // A validated scalar writes itself with its own `Display`.
                    _ => return ValueShape::Scalar { date_time: false },
                },
                Some(TypeKind::Enum(_)) => return ValueShape::Scalar { date_time: false },
                _ => return ValueShape::Other,
            },
            _ => return ValueShape::Scalar { date_time: false },
        }
    }
    ValueShape::Other
}

fn lower_body(
    lowerer: &mut Lowerer<'_>,
    body: &ReferenceOr<RequestBody>,
    pointer: &str,
    prefix: &str,
) -> Result<Option<IrBody>, Error> {
    let (body, body_pointer) = lowerer.deref(body, pointer)?;
    let Some((media, content)) = pick_content(&body.content) else { return Ok(None) };
    let media_pointer = pointer_join(&format!("{body_pointer}/content"), media);
    let name = component_name(&body_pointer).unwrap_or_else(|| format!("{prefix}Body"));
    let ty = match &content.schema {
        Some(schema) => lowerer.lower_ref_or(schema, &format!("{media_pointer}/schema"), &NameHint::derived(name))?,
        None => TypeRef::Json,
    };
    let media_type = media_essence(media);
    let encoding = if is_json(&media_type) {
        BodyEncoding::Json
    } else if media_type == "application/x-www-form-urlencoded" {
        BodyEncoding::Form
    } else {
        lowerer.warn(
            &media_pointer,
            Lint::RawBody,
            format!("a {media_type} request body is taken as bytes the caller encodes, sent with that media type"),
        );
        BodyEncoding::Raw
    };
    Ok(Some(IrBody { ty, required: body.required, media_type, encoding }))
}

/// `/components/<section>/<Name>` -> the type name for an inline schema inside that component.
fn component_name(pointer: &str) -> Option<String> {
    let segments: Vec<&str> = pointer.split('/').collect();
    match segments.as_slice() {
        ["", "components", _, name] => Some(type_name(&crate::load::unescape_pointer_segment(name))),
        _ => None,
    }
}

/// The JSON content of a body or response (JSON first, then the first listed).
fn pick_content(content: &indexmap::IndexMap<String, MediaType>) -> Option<(&String, &MediaType)> {
    content.iter().find(|(media, _)| is_json(&media_essence(media))).or_else(|| content.iter().next())
}

fn lower_responses(
    lowerer: &mut Lowerer<'_>,
    operation: &openapiv3::Operation,
    operation_pointer: &str,
    prefix: &str,
) -> Result<Vec<Response>, Error> {
    let mut out = Vec::new();
    let mut entries: Vec<(StatusMatch, String, &ReferenceOr<openapiv3::Response>)> = Vec::new();
    for (status, response) in &operation.responses.responses {
        let status_match = match status {
            StatusCode::Code(code) => StatusMatch::Code(*code),
            StatusCode::Range(range) => StatusMatch::Range(*range),
        };
        entries.push((status_match, format!("{operation_pointer}/responses/{status}"), response));
    }
    if let Some(default) = &operation.responses.default {
        entries.push((StatusMatch::Default, format!("{operation_pointer}/responses/default"), default));
    }
    for (status, pointer, response) in entries {
        let (response, response_pointer) = lowerer.deref(response, &pointer)?;
        let success = matches!(status, StatusMatch::Code(200..=299) | StatusMatch::Range(2));
        let status_text = match status {
            StatusMatch::Code(code) => code.to_string(),
            StatusMatch::Range(range) => format!("{range}XX"),
            StatusMatch::Default => "Default".to_string(),
        };
        let Some((media, content)) = pick_content(&response.content) else {
            out.push(Response { status, media_type: None, ty: None });
            continue;
        };
        let essence = media_essence(media);
        let media_pointer = pointer_join(&format!("{response_pointer}/content"), media);
        if success && essence == PROBLEM_JSON {
            lowerer.warn(
                &media_pointer,
                Lint::ProblemJsonSuccess,
                format!("success response {status_text} is declared as {PROBLEM_JSON}; its body is read as its schema"),
            );
        }
        let name = component_name(&response_pointer).unwrap_or_else(|| format!("{prefix}Response{status_text}"));
        let ty = match &content.schema {
            Some(schema) => Some(lowerer.lower_ref_or(schema, &format!("{media_pointer}/schema"), &NameHint::derived(name))?),
            None => None,
        };
        out.push(Response { status, media_type: Some(essence), ty });
    }
    Ok(out)
}
