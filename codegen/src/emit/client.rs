//! Emit stage for the client: one `impl Client` block of typed async methods per API, plus the
//! static descriptions (`ApiInfo`, `OperationInfo`) the hand-written runtime reads.
//!
//! Everything here comes from the IR and the settings' `client:` section; no API names are known.
//! The runtime (credentials, token cache, retries, idempotency record) is the `vipps-runtime`
//! crate (`codegen/runtime`), which every generated crate re-exports at the path
//! `ClientSettings::runtime`; the methods extend the crate's own `Client` (see `emit/glue.rs`).
//!
//! # Shape of an operation method
//!
//! `async fn <operation_id in snake_case>(&self, <path params>, <plain params>, body, options)`:
//! - path parameters take their typed value (`&Reference`), percent-encoded into the path;
//! - header parameters with a role (authorization, subscription key, merchant serial number,
//!   client id and secret, system headers) are filled by the runtime, never arguments;
//! - operations that declare the idempotency-key header take `IdempotentOptions<K>` (K is the
//!   header's own type, so a caller's key is validated by the spec's rules) and return
//!   `Idempotent<T, K>`, the value together with the key that was sent; the others take
//!   `CallOptions` and return `T`.
//!
//! # Decision: `Result<Success, Error>`, not one enum per operation
//!
//! The success value is the body type of the one documented 2xx response (`()` without a body);
//! an operation with several documented 2xx responses gets an `<Operation>Outcome` enum with a
//! variant per status. Documented error statuses with a body become the runtime's typed error
//! (`ErrorBody` for the body type, so RFC 7807 problem bodies parse into the generated problem
//! type with its extra members kept); documented error statuses without a body and undocumented
//! statuses become the runtime's status error carrying operation, status, headers and raw body.
//! This keeps `?` usable for callers, while no documented status is lost: each one is an arm of
//! the generated `match`. Bodies are matched on the media type essence the spec documents.

use std::collections::BTreeMap;

use heck::ToShoutySnakeCase;
use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::types::doc_attrs;
use crate::ir::{
    Api, ArmAction, BodyEncoding, HeaderRole, Operation, Param, ParamEncoding, ParamLocation, Presence, StatusMatch, Success, TypeKind, TypeRef,
};
use crate::settings::ClientSettings;

/// The client module of one API: its static descriptions and its `impl Client` block.
/// Merchant-served operations get no method (they are served, not called).
pub fn emit_client_module(api: &Api, spec_display: &str, settings: &ClientSettings) -> TokenStream {
    super::emit_whole(emit_client_module_chunks(api, spec_display, settings))
}

/// Methods per `impl super::Client` block: one block for a document of ordinary size (ePayment
/// has seven operations), several for a very large one, so formatting never holds the syntax
/// tree of every method at once (one block of 700 methods was 60 MiB at 100x ePayment).
const METHODS_PER_IMPL: usize = 32;

/// [`emit_client_module`] as chunks: the head (imports, `API`, `OPERATIONS`), one per
/// operation's static and outcome enum, then the methods in blocks of [`METHODS_PER_IMPL`].
pub fn emit_client_module_chunks<'a>(api: &'a Api, spec_display: &str, settings: &'a ClientSettings) -> Vec<super::Chunk<'a>> {
    let doc = format!(
        " {} {} (from `{spec_display}`): client operations, one method of the crate's `Client` per operation.",
        api.title, api.version
    );
    let operations = client_operations(api);
    let mut chunks = Vec::new();
    chunks.push(super::chunk(move || {
        let rt = runtime_path(settings);
        let models = format_ident!("{}", api.module);
        let head_operations = client_operations(api);
        let api_info = emit_api_info(api, &head_operations, settings, &rt);
        let all = head_operations.iter().map(|op| {
            let ident = static_ident(op);
            quote! { &#ident }
        });
        let models_import =
            if head_operations.iter().any(|op| names_a_model(op)) { quote! { use super::#models as models; } } else { TokenStream::new() };
        quote! {
            #![doc = #doc]
            // Deprecated operations and schemas are still generated; callers still see the deprecation.
            #![allow(deprecated)]

            #models_import

            #api_info

            /// Every operation of this API the client calls, in document order.
            pub static OPERATIONS: &[&#rt::OperationInfo] = &[#(#all),*];
        }
    }));
    chunks.extend(operations.iter().map(|&op| super::chunk(move || emit_operation_info(op, &runtime_path(settings)))));
    chunks.extend(operations.iter().map(|&op| super::chunk(move || emit_outcome_enum(op).unwrap_or_default())));
    // A document without client operations still gets its (empty) block, as it always had.
    let blocks: Vec<Vec<&'a Operation>> =
        if operations.is_empty() { vec![Vec::new()] } else { operations.chunks(METHODS_PER_IMPL).map(<[_]>::to_vec).collect() };
    for block in blocks {
        chunks.push(super::chunk(move || {
            let rt = runtime_path(settings);
            let methods = block.iter().map(|op| emit_method(api, op, settings, &rt));
            quote! {
                impl super::Client {
                    #(#methods)*
                }
            }
        }));
    }
    chunks
}

/// The operations the client calls (merchant-served ones have types only), in document order.
fn client_operations(api: &Api) -> Vec<&Operation> {
    api.operations.iter().filter(|op| !op.merchant_served).collect()
}

/// Whether the method of `op` names a generated model (a parameter, the body or an answer).
fn names_a_model(op: &Operation) -> bool {
    fn named(ty: &TypeRef) -> bool {
        match ty {
            TypeRef::Named(_) => true,
            TypeRef::Vec(inner) | TypeRef::Map(inner) => named(inner),
            _ => false,
        }
    }
    let arguments = op.method_plan.arguments.iter().map(|&index| &op.params[index]);
    arguments.chain(op.params.iter().filter(|p| p.role == HeaderRole::IdempotencyKey)).any(|p| named(&p.ty))
        || op.body.as_ref().is_some_and(|body| body.encoding != BodyEncoding::Raw && named(&body.ty))
        || op.responses.iter().filter_map(|r| r.ty.as_ref()).any(named)
}

pub(super) fn runtime_path(settings: &ClientSettings) -> TokenStream {
    // `load_settings` checked that this is a Rust path; settings built in code fall back to the
    // default rather than emit tokens that do not parse.
    settings.runtime.parse().unwrap_or_else(|_| quote! { crate::runtime })
}

fn static_ident(op: &Operation) -> Ident {
    format_ident!("{}", op.fn_name.to_shouty_snake_case())
}

/// A type use, with named types qualified by the models module.
fn model_type(ty: &TypeRef) -> TokenStream {
    match ty {
        TypeRef::Named(name) => {
            let ident = format_ident!("{}", name);
            quote! { models::#ident }
        }
        TypeRef::Vec(inner) => {
            let inner = model_type(inner);
            quote! { Vec<#inner> }
        }
        TypeRef::Map(inner) => {
            let inner = model_type(inner);
            quote! { std::collections::BTreeMap<String, #inner> }
        }
        other => super::type_tokens(other),
    }
}

fn role_tokens(role: HeaderRole, rt: &TokenStream) -> TokenStream {
    let variant = match role {
        HeaderRole::Authorization => quote! { Authorization },
        HeaderRole::SubscriptionKey => quote! { SubscriptionKey },
        HeaderRole::MerchantSerialNumber => quote! { MerchantSerialNumber },
        HeaderRole::IdempotencyKey => quote! { IdempotencyKey },
        HeaderRole::System => quote! { System },
        HeaderRole::ClientId => quote! { ClientId },
        HeaderRole::ClientSecret => quote! { ClientSecret },
        HeaderRole::Plain => quote! { Plain },
    };
    quote! { #rt::HeaderRole::#variant }
}

fn option_usize(value: Option<usize>) -> TokenStream {
    match value {
        Some(v) => quote! { Some(#v) },
        None => quote! { None },
    }
}

/// `ApiInfo`: servers, the environments of the settings, and the system headers with their limits.
fn emit_api_info(api: &Api, operations: &[&Operation], settings: &ClientSettings, rt: &TokenStream) -> TokenStream {
    let module = &api.module;
    let title = &api.title;
    let version = &api.version;
    let servers = api.servers.iter().map(|s| &s.url);
    let environments = settings.environments.iter().filter_map(|(name, index)| {
        let url = &api.servers.get(*index)?.url;
        Some(quote! { (#name, #url) })
    });
    let mut system: BTreeMap<String, (String, Option<usize>)> = BTreeMap::new();
    for param in operations.iter().flat_map(|op| &op.params).filter(|p| p.role == HeaderRole::System) {
        let entry = system.entry(param.wire_name.to_ascii_lowercase()).or_insert((param.wire_name.clone(), param.max_length));
        entry.1 = match (entry.1, param.max_length) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    let system = system.values().map(|(name, max)| {
        let max = option_usize(*max);
        quote! { #rt::HeaderLimit { name: #name, max_length: #max } }
    });
    quote! {
        /// The API this module calls: its servers, by environment, and its system headers.
        pub static API: #rt::ApiInfo = #rt::ApiInfo {
            module: #module,
            title: #title,
            version: #version,
            servers: &[#(#servers),*],
            environments: &[#(#environments),*],
            system_headers: &[#(#system),*],
        };
    }
}

fn emit_operation_info(op: &Operation, rt: &TokenStream) -> TokenStream {
    let ident = static_ident(op);
    let id = &op.id;
    let method = &op.method;
    let path = &op.path;
    let authenticated = needs_auth(op);
    let test_only = op.test_only;
    let repeatable = op.repeatable;
    let headers = op.params.iter().filter(|p| p.location == ParamLocation::Header).map(|p| {
        let name = &p.wire_name;
        let role = role_tokens(p.role, rt);
        let required = p.required;
        let max = option_usize(p.max_length);
        quote! { #rt::HeaderInfo { name: #name, role: #role, required: #required, max_length: #max } }
    });
    let doc = format!(" `{id}`: `{method} {path}`.");
    quote! {
        #[doc = #doc]
        pub static #ident: #rt::OperationInfo = #rt::OperationInfo {
            api: &API,
            id: #id,
            method: #method,
            path: #path,
            authenticated: #authenticated,
            test_only: #test_only,
            repeatable: #repeatable,
            headers: &[#(#headers),*],
        };
    }
}

/// The access token is needed when security requirements apply or the spec declares the
/// authorization header explicitly (either way the auth layer serves it).
fn needs_auth(op: &Operation) -> bool {
    op.authenticated || op.params.iter().any(|p| p.role == HeaderRole::Authorization)
}

/// The success type of an operation, as its plan says.
fn success_type(op: &Operation) -> TokenStream {
    match &op.method_plan.success {
        Success::Unit => quote! { () },
        Success::Body(ty) => model_type(ty),
        Success::Outcome { name, .. } => {
            let ident = format_ident!("{}", name);
            quote! { #ident }
        }
    }
}

/// `<Operation>Outcome` for operations whose plan has one.
fn emit_outcome_enum(op: &Operation) -> Option<TokenStream> {
    let Success::Outcome { name, variants } = &op.method_plan.success else { return None };
    let ident = format_ident!("{}", name);
    let doc = format!(" The documented success responses of `{}`.", op.id);
    let variants = variants.iter().map(|variant| {
        let name = format_ident!("{}", variant.name);
        let status_doc = format!(" {}", status_text(variant.status));
        match &variant.body {
            Some(ty) => {
                let ty = model_type(ty);
                quote! { #[doc = #status_doc] #name(#ty), }
            }
            None => quote! { #[doc = #status_doc] #name, },
        }
    });
    Some(quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq)]
        #[allow(clippy::large_enum_variant)]
        #[non_exhaustive]
        pub enum #ident {
            #(#variants)*
        }
    })
}

fn status_text(status: StatusMatch) -> String {
    match status {
        StatusMatch::Code(code) => code.to_string(),
        StatusMatch::Range(range) => format!("{range}XX"),
        StatusMatch::Default => "default".to_string(),
    }
}

fn status_pattern(status: StatusMatch) -> TokenStream {
    match status {
        StatusMatch::Code(code) => {
            let code = Literal::u16_unsuffixed(code);
            quote! { #code }
        }
        StatusMatch::Range(range) => {
            let low = Literal::u16_unsuffixed(range * 100);
            let high = Literal::u16_unsuffixed(range * 100 + 99);
            quote! { #low..=#high }
        }
        StatusMatch::Default => quote! { _ },
    }
}

/// The `match` arms of the plan, as tokens.
fn response_arms(op: &Operation, response_var: &Ident) -> TokenStream {
    let arms = op.method_plan.arms.iter().map(|arm| {
        let patterns = arm.statuses.iter().map(|status| status_pattern(*status));
        let handling = match &arm.action {
            ArmAction::Success { body, variant } => {
                let value = body.as_ref().map(|(ty, media)| {
                    let ty = model_type(ty);
                    quote! { #response_var.decode::<#ty>(#media)? }
                });
                match (variant, value) {
                    (Some(variant), value) => {
                        let Success::Outcome { name, .. } = &op.method_plan.success else { unreachable!("outcome variants come with an outcome") };
                        let (outcome, variant) = (format_ident!("{}", name), format_ident!("{}", variant));
                        match value {
                            Some(value) => quote! { #outcome::#variant(#value) },
                            None => quote! { #outcome::#variant },
                        }
                    }
                    (None, Some(value)) => value,
                    (None, None) => quote! { {} },
                }
            }
            ArmAction::ErrorBody(ty, media) => {
                let ty = model_type(ty);
                quote! { return Err(#response_var.error_body::<#ty>(#media)) }
            }
            ArmAction::ErrorStatus { documented } => quote! { return Err(#response_var.error_status(#documented)) },
        };
        quote! { #(#patterns)|* => #handling, }
    });
    quote! { #(#arms)* }
}

/// The statement that records the span's `reference`: a path parameter or a body property whose
/// wire name is listed in the settings.
fn emit_span_reference(api: &Api, op: &Operation, settings: &ClientSettings, request: &Ident) -> TokenStream {
    for wanted in &settings.span_reference {
        if let Some(param) = op.params.iter().find(|p| p.location == ParamLocation::Path && &p.wire_name == wanted) {
            let name = format_ident!("{}", param.name);
            return quote! { #request.reference(#name.to_string()); };
        }
        let Some(body) = &op.body else { continue };
        let Some(field) = body_field(api, &body.ty, wanted) else { continue };
        let field_ident = format_ident!("{}", field.0);
        let read = match field.1 {
            Presence::Required => quote! { #request.reference(body.#field_ident.to_string()); },
            _ => quote! {
                if let Some(reference) = &body.#field_ident {
                    #request.reference(reference.to_string());
                }
            },
        };
        return if body.required {
            read
        } else {
            quote! {
                if let Some(body) = body {
                    #read
                }
            }
        };
    }
    TokenStream::new()
}

/// A top-level property of a struct body with a displayable type: (Rust name, presence).
fn body_field(api: &Api, ty: &TypeRef, wire_name: &str) -> Option<(String, Presence)> {
    let TypeRef::Named(name) = ty else { return None };
    let def = api.types.get(name)?;
    let TypeKind::Struct(def) = &def.kind else { return None };
    let field = def.fields.iter().find(|f| f.wire_name == wire_name)?;
    displayable(api, &field.ty).then(|| (field.name.clone(), field.presence))
}

fn displayable(api: &Api, ty: &TypeRef) -> bool {
    match ty {
        TypeRef::String | TypeRef::Uuid | TypeRef::I32 | TypeRef::I64 | TypeRef::Bool => true,
        TypeRef::Named(name) => match api.types.get(name).map(|d| &d.kind) {
            Some(TypeKind::Enum(_)) => true,
            Some(TypeKind::Newtype(n)) => !matches!(n.inner, TypeRef::Vec(_)),
            Some(TypeKind::Alias(target)) => displayable(api, target),
            _ => false,
        },
        _ => false,
    }
}

/// The path built from its template, each parameter percent-encoded (no macro, so the output
/// stays formatted).
fn emit_path(op: &Operation, rt: &TokenStream) -> TokenStream {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = op.path.as_str();
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else { break };
        let name = &rest[open + 1..close];
        match op.params.iter().find(|p| p.location == ParamLocation::Path && p.wire_name == name) {
            Some(param) => {
                literal.push_str(&rest[..open]);
                if !literal.is_empty() {
                    pieces.push(quote! { #literal });
                }
                literal.clear();
                let ident = format_ident!("{}", param.name);
                match param.encoding {
                    ParamEncoding::Text if !param.rfc3339 => pieces.push(quote! { #rt::encode_path_segment(#ident).as_str() }),
                    ParamEncoding::Exploded | ParamEncoding::Joined => {
                        // `simple`: each item encoded, joined by a literal comma (RFC 6570).
                        let items = param_items(param, &quote! { #ident });
                        let item = scalar_text(param, &quote! { item });
                        pieces.push(quote! { #items.map(|item| #rt::encode_path_segment(&#item)).collect::<Vec<_>>().join(",").as_str() });
                    }
                    _ => {
                        let text = param_text(param, &quote! { #ident }, rt, &static_ident(op));
                        pieces.push(quote! { #rt::encode_path_segment(&#text).as_str() });
                    }
                }
            }
            None => literal.push_str(&rest[..=close]),
        }
        rest = &rest[close + 1..];
    }
    literal.push_str(rest);
    if pieces.is_empty() {
        return quote! { String::from(#literal) };
    }
    if !literal.is_empty() {
        pieces.push(quote! { #literal });
    }
    quote! { [#(#pieces),*].concat() }
}

/// The text of one parameter value as its encoding writes it (`Exploded` arrays are written per
/// item by the caller of this).
fn param_text(param: &Param, value: &TokenStream, rt: &TokenStream, info: &Ident) -> TokenStream {
    match param.encoding {
        ParamEncoding::Text => scalar_text(param, value),
        ParamEncoding::Exploded | ParamEncoding::Joined => {
            let items = param_items(param, value);
            let item = scalar_text(param, &quote! { item });
            quote! { #items.map(|item| #item).collect::<Vec<_>>().join(",") }
        }
        ParamEncoding::Json => quote! {
            serde_json::to_string(#value).map_err(|error| #rt::Error::invalid_input(&#info, error.to_string()))?
        },
    }
}

/// One scalar value as text: `Display`, or RFC 3339 for a date-time.
fn scalar_text(param: &Param, value: &TokenStream) -> TokenStream {
    if param.rfc3339 {
        quote! { #value.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true) }
    } else {
        quote! { #value.to_string() }
    }
}

/// The items of an array parameter.
fn param_items(param: &Param, value: &TokenStream) -> TokenStream {
    if param.via_slice { quote! { #value.as_slice().iter() } } else { quote! { #value.iter() } }
}

/// `clippy::too_many_arguments`' default threshold (`self` counts).
const CLIPPY_MAX_ARGUMENTS: usize = 7;

fn emit_method(api: &Api, op: &Operation, settings: &ClientSettings, rt: &TokenStream) -> TokenStream {
    let fn_name = format_ident!("{}", op.fn_name);
    let info = static_ident(op);
    let plan = &op.method_plan;
    let arguments: Vec<&Param> = plan.arguments.iter().map(|&index| &op.params[index]).collect();
    let request = format_ident!("{}", plan.locals.request);
    let response = format_ident!("{}", plan.locals.response);
    let value = format_ident!("{}", plan.locals.value);
    let key = format_ident!("{}", plan.locals.idempotency_key);

    let params = arguments.iter().map(|p| {
        let name = format_ident!("{}", p.name);
        // An array argument is borrowed as a slice.
        let ty = match &p.ty {
            TypeRef::Vec(inner) => {
                let inner = model_type(inner);
                quote! { [#inner] }
            }
            other => model_type(other),
        };
        if p.required {
            quote! { #name: &#ty }
        } else {
            quote! { #name: Option<&#ty> }
        }
    });
    let body_param = op.body.as_ref().map(|body| {
        let ty = match body.encoding {
            BodyEncoding::Raw => quote! { [u8] },
            BodyEncoding::Json | BodyEncoding::Form => model_type(&body.ty),
        };
        if body.required {
            quote! { body: &#ty, }
        } else {
            quote! { body: Option<&#ty>, }
        }
    });
    let idempotency = op.params.iter().find(|p| p.location == ParamLocation::Header && p.role == HeaderRole::IdempotencyKey);
    let success = success_type(op);
    let (options_ty, return_ty) = match idempotency {
        Some(param) => {
            let key_ty = model_type(&param.ty);
            (
                quote! { #rt::IdempotentOptions<#key_ty> },
                quote! { Result<#rt::Idempotent<#success, #key_ty>, #rt::Error> },
            )
        }
        None => (quote! { #rt::CallOptions }, quote! { Result<#success, #rt::Error> }),
    };

    let key_setup = idempotency.map(|param| {
        let fresh = match &param.ty {
            TypeRef::Named(name) => {
                let ident = format_ident!("{}", name);
                quote! {
                    models::#ident::new(#rt::new_idempotency_key())
                        .map_err(|error| #rt::Error::invalid_input(&#info, error.to_string()))?
                }
            }
            _ => quote! { #rt::new_idempotency_key() },
        };
        quote! {
            let #key = match options.idempotency_key {
                Some(key) => key,
                None => #fresh,
            };
        }
    });
    let key_record = idempotency.map(|_| quote! { #request.idempotency_key(#key.to_string()); });
    let path = emit_path(op, rt);
    let plain: Vec<TokenStream> = arguments.iter().filter(|p| p.location != ParamLocation::Path).map(|p| {
        let name = format_ident!("{}", p.name);
        let wire = &p.wire_name;
        let add = |value: TokenStream| {
            let setter = match p.location {
                ParamLocation::Query => quote! { query },
                ParamLocation::Header => quote! { header },
                ParamLocation::Cookie => quote! { cookie },
                ParamLocation::Path => return TokenStream::new(),
            };
            let mark = if p.credential { quote! { #request.credential(#wire); } } else { TokenStream::new() };
            if p.encoding == ParamEncoding::Exploded {
                let items = param_items(p, &value);
                let item = scalar_text(p, &quote! { item });
                quote! { #mark for item in #items { #request.#setter(#wire, #item); } }
            } else {
                let text = param_text(p, &value, rt, &info);
                quote! { #mark #request.#setter(#wire, #text); }
            }
        };
        if p.required {
            add(quote! { #name })
        } else {
            let add = add(quote! { value });
            quote! { if let Some(value) = #name { #add } }
        }
    }).collect();
    let span_reference = emit_span_reference(api, op, settings, &request);
    let body_set = op.body.as_ref().map(|body| {
        let media = &body.media_type;
        let set = match body.encoding {
            BodyEncoding::Json => quote! { #request.json_body(body, #media)?; },
            BodyEncoding::Form => quote! { #request.form_body(body, #media)?; },
            BodyEncoding::Raw => quote! { #request.raw_body(body, #media); },
        };
        if body.required {
            set
        } else {
            quote! {
                if let Some(body) = body {
                    #set
                }
            }
        }
    });
    let call_options = if idempotency.is_some() { quote! { &options.call } } else { quote! { &options } };
    let arms = response_arms(op, &response);
    let unit_success = plan.success == Success::Unit;
    let finish = match (idempotency.is_some(), unit_success) {
        (true, true) => quote! {
            match #response.status() { #arms }
            Ok(#rt::Idempotent::new(#key, ()))
        },
        (true, false) => quote! {
            let #value = match #response.status() { #arms };
            Ok(#rt::Idempotent::new(#key, #value))
        },
        (false, true) => quote! {
            match #response.status() { #arms }
            Ok(())
        },
        (false, false) => quote! {
            let #value = match #response.status() { #arms };
            Ok(#value)
        },
    };

    let mut doc = op.doc.clone().unwrap_or_default();
    if !doc.is_empty() {
        doc.push_str("\n\n");
    }
    doc.push_str(&format!("`{} {}` (`{}`).", op.method, op.path, op.id));
    doc.push_str(&format!("\n\n{}", responses_doc(op)));
    if idempotency.is_some() {
        doc.push_str(
            "\n\nIdempotent: the key given in `options` (or a fresh UUID v4) is sent unchanged on every retry \
             and returned with the result; reusing a key with another request is refused before sending.",
        );
    }
    let retries = if idempotency.is_some() || op.repeatable {
        "\n\nRetried by the client's `RetryPolicy` on connection errors, timeouts, 423, 429 (honouring `Retry-After`) and 5xx."
    } else {
        "\n\nNever retried: the operation declares no idempotency key, so a repeat could repeat its effect."
    };
    doc.push_str(retries);
    if op.test_only {
        doc.push_str("\n\nTest environment only: refused before sending when the client is configured for production.");
    }
    let mutated = !span_reference.is_empty() || key_record.is_some() || !plain.is_empty() || body_set.is_some();
    let binding = if mutated { quote! { let mut #request } } else { quote! { let #request } };
    let docs = doc_attrs(Some(&doc));
    let deprecated = if op.deprecated { quote! { #[deprecated] } } else { TokenStream::new() };
    // Arguments are positional (one per parameter, as the document lists them); a document with
    // many header parameters gives a long list, which is its shape, not a defect to warn about.
    let argument_count = 2 + arguments.len() + usize::from(op.body.is_some());
    let many = if argument_count > CLIPPY_MAX_ARGUMENTS { quote! { #[allow(clippy::too_many_arguments)] } } else { TokenStream::new() };
    let visibility = if crate::lower::glue::is_token_operation(op, settings) {
        quote! { pub(crate) }
    } else {
        quote! { pub }
    };
    quote! {
        #docs
        #deprecated
        #many
        #visibility async fn #fn_name(&self, #(#params,)* #body_param options: #options_ty) -> #return_ty {
            #key_setup
            #binding = #rt::Request::new(&#info, #path);
            #span_reference
            #key_record
            #(#plain)*
            #body_set
            let #response = self.execute(#request, #call_options).await?;
            #finish
        }
    }
}

/// One doc line per documented status, and what undocumented ones become.
fn responses_doc(op: &Operation) -> String {
    let mut lines = Vec::new();
    for response in &op.responses {
        let status = status_text(response.status);
        let body = match (&response.ty, &response.media_type) {
            (Some(ty), Some(media)) => format!("`{}` ({media})", type_label(ty)),
            _ => "no body".to_string(),
        };
        let what = if crate::lower::method::is_success(response.status) { "success" } else { "error" };
        lines.push(format!("- {status}: {what}, {body}"));
    }
    if !op.responses.iter().any(|r| r.status == StatusMatch::Default) {
        lines.push("- any other status: a status error carrying the raw response".to_string());
    }
    format!("Responses:\n{}", lines.join("\n"))
}

fn type_label(ty: &TypeRef) -> String {
    match ty {
        TypeRef::Named(name) => name.clone(),
        TypeRef::Vec(inner) => format!("Vec<{}>", type_label(inner)),
        TypeRef::Map(inner) => format!("BTreeMap<String, {}>", type_label(inner)),
        other => super::type_tokens(other).to_string().replace(' ', ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{HeaderRoles, Settings};

    fn lower(yaml: &str) -> Api {
        let resolved = crate::resolve::resolve_text(yaml).expect("resolves");
        let headers = HeaderRoles {
            subscription_key: "Ocp-Apim-Subscription-Key".into(),
            merchant_serial_number: "Merchant-Serial-Number".into(),
            idempotency_key: "Idempotency-Key".into(),
            system_header_prefix: "Vipps-System-".into(),
            client_id: "client_id".into(),
            client_secret: "client_secret".into(),
            ..HeaderRoles::default()
        };
        let mut settings = Settings::defaults_for(headers);
        settings.test_only_tags = vec!["Testing".into()];
        crate::lower::lower(&resolved, &settings, "demo").expect("lowers")
    }

    fn client_settings() -> ClientSettings {
        ClientSettings { span_reference: vec!["id".into()], ..ClientSettings::default() }
    }

    fn emitted(api: &Api) -> String {
        let tokens = emit_client_module(api, "test.yaml", &client_settings());
        let file: syn::File = syn::parse2(tokens).expect("emitted tokens parse");
        prettyplease::unparse(&file)
    }

    const SPEC: &str = r#"
openapi: 3.0.0
info: { title: Demo, version: '1' }
servers: [{ url: 'https://live.example/api' }, { url: 'https://test.example/api' }]
paths:
  /things/{id}/parts/{part}:
    parameters:
      - { name: part, in: path, required: true, schema: { type: string } }
      - { name: id, in: path, required: true, schema: { type: string, maxLength: 9 } }
      - { name: Idempotency-Key, in: header, required: true, schema: { type: string, maxLength: 50 } }
      - { name: Vipps-System-Name, in: header, schema: { type: string, maxLength: 30 } }
      - { name: X-Trace, in: header, schema: { type: string } }
      - { name: limit, in: query, required: true, schema: { type: integer } }
    post:
      operationId: makeThing
      tags: [Testing]
      requestBody:
        required: true
        content: { application/json: { schema: { type: object, properties: { n: { type: integer } } } } }
      responses:
        '200': { description: ok, content: { application/json: { schema: { type: object, properties: { a: { type: string } } } } } }
        '202': { description: later }
        '4XX': { description: bad }
  /plain:
    get:
      operationId: getPlain
      responses:
        default: { description: anything }
"#;

    #[test]
    fn form_bodies_are_form_fields_and_other_media_types_are_bytes() {
        let spec = r#"
openapi: 3.0.0
info: { title: Bodies, version: '1' }
paths:
  /token:
    post:
      operationId: fetchToken
      requestBody:
        required: true
        content: { 'application/x-www-form-urlencoded; charset=utf-8': { schema: { type: object, properties: { grant_type: { type: string } } } } }
      responses: { '200': { description: ok } }
  /images:
    put:
      operationId: putImage
      requestBody:
        content: { image/png: { schema: { type: string, format: binary } } }
      responses: { '204': { description: stored } }
"#;
        let api = lower(spec);
        let text = emitted(&api);
        assert!(text.contains("body: &models::FetchTokenBody"), "a form body keeps its type: {text}");
        assert!(text.contains(r#"request.form_body(body, "application/x-www-form-urlencoded")?;"#), "{text}");
        assert!(text.contains("body: Option<&[u8]>"), "an image body is bytes: {text}");
        assert!(text.contains(r#"request.raw_body(body, "image/png");"#), "{text}");
        let raw: Vec<_> = api.warnings.iter().filter(|w| w.lint == crate::error::Lint::RawBody).collect();
        assert_eq!(raw.len(), 1, "{raw:?}");
        assert_eq!(raw[0].location.pointer, "/paths/~1images/put/requestBody/content/image~1png");
    }

    #[test]
    fn path_parameters_follow_the_template_and_are_percent_encoded() {
        let text = emitted(&lower(SPEC));
        assert!(text.contains("id: &models::Id"), "{text}");
        let id_at = text.find("id: &models::Id").unwrap_or(usize::MAX);
        let part_at = text.find("part: &String").unwrap_or(0);
        assert!(id_at < part_at, "path parameters follow the template order: {text}");
        assert!(text.contains("\"/things/\","), "{text}");
        assert!(text.contains("encode_path_segment(id).as_str(),"), "{text}");
        assert!(text.contains("\"/parts/\","), "{text}");
        assert!(text.contains("encode_path_segment(part).as_str(),\n"), "{text}");
    }

    #[test]
    fn role_headers_are_not_arguments_and_plain_ones_are() {
        let text = emitted(&lower(SPEC));
        assert!(!text.contains("vipps_system_name:"), "system headers come from the configuration: {text}");
        assert!(text.contains("x_trace: Option<&String>"), "{text}");
        assert!(text.contains("limit: &i64"), "{text}");
        assert!(text.contains("HeaderLimit {\n            name: \"Vipps-System-Name\",\n            max_length: Some(30usize),"), "{text}");
    }

    #[test]
    fn idempotent_operations_take_and_return_the_key() {
        let text = emitted(&lower(SPEC));
        assert!(text.contains("options: crate::runtime::IdempotentOptions<models::IdempotencyKey>"), "{text}");
        assert!(text.contains("crate::runtime::Idempotent<MakeThingOutcome, models::IdempotencyKey>"), "{text}");
        assert!(text.contains("options: crate::runtime::CallOptions"), "{text}");
    }

    #[test]
    fn several_success_statuses_make_an_outcome_enum_and_ranges_become_arms() {
        let text = emitted(&lower(SPEC));
        assert!(text.contains("pub enum MakeThingOutcome"), "{text}");
        assert!(text.contains("Accepted,"), "{text}");
        assert!(text.contains("400..=499 => return Err(response.error_status(true))"), "{text}");
        assert!(text.contains("_ => return Err(response.error_status(false))"), "{text}");
    }

    #[test]
    fn a_default_only_operation_takes_any_2xx_as_success() {
        let text = emitted(&lower(SPEC));
        let plain = &text[text.find("async fn get_plain").expect("get_plain emitted")..];
        assert!(plain.contains("200..=299 => {}"), "{plain}");
        assert!(plain.contains("_ => return Err(response.error_status(true))"), "{plain}");
    }

    #[test]
    fn test_only_tags_and_environments_reach_the_static_descriptions() {
        let api = lower(SPEC);
        let mut settings = client_settings();
        settings.environments.insert("test".into(), 1);
        settings.environments.insert("staging".into(), 7);
        let file: syn::File = syn::parse2(emit_client_module(&api, "test.yaml", &settings)).expect("parses");
        let text = prettyplease::unparse(&file);
        assert!(text.contains("test_only: true"), "{text}");
        assert!(text.contains("environments: &[(\"test\", \"https://test.example/api\")]"), "an out-of-range index is left out: {text}");
    }

    #[test]
    fn the_span_reference_comes_from_the_listed_path_parameter() {
        let text = emitted(&lower(SPEC));
        assert!(text.contains("request.reference(id.to_string());"), "{text}");
    }

    #[test]
    fn a_document_with_many_operations_gets_its_methods_in_blocks_of_thirty_two() {
        let mut yaml = String::from("openapi: 3.0.0\ninfo: { title: Many, version: '1' }\npaths:\n");
        for index in 0..(METHODS_PER_IMPL + 1) {
            yaml.push_str(&format!("  /things/n{index}:\n    get:\n      operationId: getThing{index}\n      responses:\n        '204': {{ description: none }}\n"));
        }
        let api = lower(&yaml);
        let settings = client_settings();
        let chunks = emit_client_module_chunks(&api, "many.yaml", &settings);
        let texts: Vec<String> = chunks
            .into_iter()
            .map(|chunk| prettyplease::unparse(&syn::parse2::<syn::File>(chunk()).expect("each chunk parses")))
            .collect();
        let blocks: Vec<&String> = texts.iter().filter(|text| text.starts_with("impl super::Client {")).collect();
        assert_eq!(blocks.len(), 2, "33 methods: one block of 32 and one of 1");
        assert_eq!(blocks[0].matches("pub async fn get_thing").count(), METHODS_PER_IMPL);
        assert_eq!(blocks[1].matches("pub async fn get_thing").count(), 1);
        assert!(blocks[1].contains("pub async fn get_thing32("), "document order is kept: {}", blocks[1]);
        // The chunks in order are the module as one token stream formats it.
        let whole = prettyplease::unparse(&syn::parse2::<syn::File>(emit_client_module(&api, "many.yaml", &client_settings())).expect("parses"));
        assert_eq!(texts.concat(), whole);
    }

    #[test]
    fn a_document_of_ordinary_size_keeps_one_impl_block() {
        let text = emitted(&lower(SPEC));
        assert_eq!(text.matches("impl super::Client {").count(), 1, "{text}");
    }

    #[test]
    fn a_document_without_client_operations_keeps_its_empty_block() {
        let text = emitted(&lower("openapi: 3.0.0\ninfo: { title: None, version: '1' }\npaths: {}\n"));
        assert_eq!(text.matches("impl super::Client {}").count(), 1, "{text}");
    }

    #[test]
    fn keys_of_paths_that_are_not_paths_are_not_operations() {
        let yaml = "openapi: 3.0.0\ninfo: { title: T, version: '1' }\npaths:\n  things:\n    get: { operationId: notAPath, responses: { '204': { description: none } } }\n  x-note: { get: 1 }\n  /real:\n    get: { operationId: aPath, responses: { '204': { description: none } } }\n";
        let api = lower(yaml);
        assert_eq!(api.operations.iter().map(|op| op.fn_name.as_str()).collect::<Vec<_>>(), ["a_path"]);
    }
}
