//! Emit stage: IR -> token streams, one file's worth at a time.

mod client;
mod glue;
mod strategies;
mod types;

use proc_macro2::TokenStream;
use quote::quote;

use crate::ir::Api;

pub use client::emit_client_module;
pub use strategies::{
    STRATEGY_SUPPORT_SOURCE, emit_strategies_mod_entries, emit_strategies_module, emit_strategies_module_chunks, strategy_support_tokens,
};
pub use types::{doc_attrs, emit_common_module, type_tokens};

/// `Some(n)` (unsuffixed) or `None`, for an optional count in emitted code.
fn usize_option(value: Option<usize>) -> TokenStream {
    match value {
        Some(v) => {
            let v = proc_macro2::Literal::usize_unsuffixed(v);
            quote! { Some(#v) }
        }
        None => quote! { None },
    }
}

/// `pub use self::<same_as> as <name>;` with a doc line: a name kept for an item that is now
/// another's (a repeated type, its strategy).
fn reexport_as(name: &str, same_as: &str, doc: &str) -> TokenStream {
    let (name, same_as) = (quote::format_ident!("{}", name), quote::format_ident!("{}", same_as));
    quote! {
        #[doc = #doc]
        pub use self::#same_as as #name;
    }
}

/// Source of the support module every generated module uses (spec-independent).
pub const SUPPORT_SOURCE: &str = include_str!("support.rs.in");

/// The module of one API: its types.
pub fn emit_api_module(api: &Api, spec_display: &str) -> TokenStream {
    emit_api_module_chunks(api, spec_display).collect()
}

/// [`emit_api_module`] as chunks made on demand (the inner attributes, then one per type), for
/// `format::format_chunks`.
pub fn emit_api_module_chunks<'a>(api: &'a Api, spec_display: &str) -> impl Iterator<Item = TokenStream> + 'a {
    let doc = format!(" {} {} (from `{spec_display}`): models.", api.title, api.version);
    let head = quote! {
        #![doc = #doc]
        // Deprecated schemas still have to be generated and used by the types that contain them;
        // callers still see the deprecation.
        #![allow(deprecated)]
    };
    std::iter::once(head).chain(types::emit_type_chunks(api))
}

/// `mod.rs` of the generated tree: the support module, the models modules, the client modules,
/// and the glue (`emit/glue.rs`): the crate's `Client`, `APIS` (every client module's `API`, the one
/// list the runtime reads for environments and system-header limits) and `GLUE`. A document
/// added to the settings needs no hand-written change.
pub fn emit_mod_file(modules: &[String], client_modules: &[String], has_common: bool, plan: &crate::ir::GluePlan, settings: &crate::settings::ClientSettings) -> TokenStream {
    let declared = modules.iter().chain(client_modules).map(|m| {
        let ident = quote::format_ident!("{}", m);
        quote! { pub mod #ident; }
    });
    let common = quote::format_ident!("{}", crate::layout::COMMON_MODULE);
    let common = if has_common { quote! { mod #common; } } else { TokenStream::new() };
    let rt = client::runtime_path(settings);
    let glue = glue::emit_glue(plan, client_modules, &rt);
    quote! {
        //! Code generated from the spec documents in `spec/`.
        pub mod support;
        #common
        #(#declared)*
        #glue
    }
}

/// The example round-trip dispatch used by the example tests: type name -> JSON round trip.
pub fn emit_roundtrip_dispatch(api: &Api, type_path: &TokenStream) -> TokenStream {
    let arms = api.types.keys().map(|name| {
        let ident = quote::format_ident!("{}", name);
        quote! { #name => roundtrip_as::<#type_path::#ident>(value), }
    });
    quote! {
        //! Type name -> JSON round trip through that type, for the example tests.

        /// Deserializes `value` as the named type and serializes it back; None for an unknown name.
        #[allow(deprecated)]
        pub fn roundtrip(type_name: &str, value: serde_json::Value) -> Option<Result<serde_json::Value, String>> {
            Some(match type_name {
                #(#arms)*
                _ => return None,
            })
        }

        fn roundtrip_as<T: serde::de::DeserializeOwned + serde::Serialize>(value: serde_json::Value) -> Result<serde_json::Value, String> {
            let parsed: T = serde_json::from_value(value).map_err(|err| err.to_string())?;
            serde_json::to_value(&parsed).map_err(|err| err.to_string())
        }
    }
}
