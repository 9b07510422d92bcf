//! Emit stage: IR -> token streams, one file's worth at a time.

mod client;
mod glue;
mod strategies;
mod types;

use proc_macro2::TokenStream;
use quote::quote;

use crate::ir::Api;

pub use client::{emit_client_module, emit_client_module_chunks};
pub use strategies::{
    STRATEGY_SUPPORT_FORMATTED, emit_strategies_mod_entries, emit_strategies_module, emit_strategies_module_chunks,
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

/// The support module every generated module uses (spec-independent, `support.rs.in`) as the
/// format stage prints it: formatted once when the generator is built (`build.rs`), emitted as
/// it is.
pub const SUPPORT_FORMATTED: &str = include_str!(concat!(env!("OUT_DIR"), "/support.rs.in"));

/// One chunk of a generated file: whole items (the first chunk of a file may open with its inner
/// attributes), emitted when called. Files are emitted and formatted chunk by chunk, on every
/// core (`format::format_files`): tokens are not `Send`, so a chunk is emitted in the thread
/// that formats it, and no file's tokens or syntax tree are ever held whole.
pub type Chunk<'a> = Box<dyn FnOnce() -> TokenStream + Send + 'a>;

/// A [`Chunk`] from a closure.
fn chunk<'a>(emit: impl FnOnce() -> TokenStream + Send + 'a) -> Chunk<'a> {
    Box::new(emit)
}

/// A file's chunks emitted in order, as one token stream (for tests and tools).
pub fn emit_whole(chunks: Vec<Chunk<'_>>) -> TokenStream {
    chunks.into_iter().map(|chunk| chunk()).collect()
}

/// The module of one API: its types.
pub fn emit_api_module(api: &Api, spec_display: &str) -> TokenStream {
    emit_whole(emit_api_module_chunks(api, spec_display))
}

/// [`emit_api_module`] as chunks: the inner attributes, then one per type.
pub fn emit_api_module_chunks<'a>(api: &'a Api, spec_display: &str) -> Vec<Chunk<'a>> {
    let doc = format!(" {} {} (from `{spec_display}`): models.", api.title, api.version);
    let head = chunk(move || {
        quote! {
            #![doc = #doc]
            // Deprecated schemas still have to be generated and used by the types that contain them;
            // callers still see the deprecation.
            #![allow(deprecated)]
        }
    });
    std::iter::once(head).chain(types::emit_type_chunks(api)).collect()
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
