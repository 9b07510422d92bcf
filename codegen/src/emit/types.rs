//! Emit stage for named types: IR -> tokens. Small pure functions, one per kind.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::usize_option;
use crate::ir::{
    Api, CommonTypes, EnumDef, Field, MapDef, NewtypeDef, Number, Presence, RepeatedType, Rules, StructDef, TypeDef, TypeKind, TypeRef, UnionDef,
    UnionStrategy,
};

/// `#[doc]` attributes for a description, one per line, safe for rustdoc (no accidental doctests).
pub fn doc_attrs(doc: Option<&str>) -> TokenStream {
    let Some(doc) = doc else { return TokenStream::new() };
    let lines = doc_lines(doc).into_iter().map(|line| {
        let text = format!(" {line}");
        quote! { #[doc = #text] }
    });
    quote! { #(#lines)* }
}

/// A document's description as rustdoc lines, rendering as the document's Markdown does.
/// Lines are trimmed (YAML block indentation is not Markdown indentation), code fences become
/// `text` blocks (a document's code is not Rust), and a line that continues a list item
/// lazily (unindented, as real documents write them) is indented under the item, which
/// Markdown renders the same and rustdoc's lints accept.
fn doc_lines(doc: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_fence = false;
    let mut item_indent: Option<usize> = None;
    for raw in doc.lines() {
        let line = raw.trim();
        if line.starts_with("```") {
            in_fence = !in_fence;
            item_indent = None;
            lines.push(if in_fence { "```text".to_string() } else { "```".to_string() });
        } else if in_fence || line.is_empty() {
            item_indent = item_indent.filter(|_| in_fence);
            lines.push(line.to_string());
        } else if let Some(width) = list_marker_width(line) {
            item_indent = Some(width);
            lines.push(line.to_string());
        } else {
            lines.push(format!("{}{line}", " ".repeat(item_indent.unwrap_or(0))));
        }
    }
    lines
}

/// The width of a Markdown list marker that starts `line` (`- `, `* `, `+ `, `1. `, `1) `).
fn list_marker_width(line: &str) -> Option<usize> {
    if ["- ", "* ", "+ "].iter().any(|marker| line.starts_with(marker)) {
        return Some(2);
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    let rest = &line[digits..];
    (digits > 0 && digits < 10 && (rest.starts_with(". ") || rest.starts_with(") "))).then_some(digits + 2)
}

/// A type use as tokens.
pub fn type_tokens(ty: &TypeRef) -> TokenStream {
    match ty {
        TypeRef::Named(name) => {
            let ident = format_ident!("{}", name);
            quote! { #ident }
        }
        TypeRef::String => quote! { String },
        TypeRef::Bool => quote! { bool },
        TypeRef::I32 => quote! { i32 },
        TypeRef::I64 => quote! { i64 },
        TypeRef::F32 => quote! { f32 },
        TypeRef::F64 => quote! { f64 },
        TypeRef::DateTime => quote! { chrono::DateTime<chrono::Utc> },
        TypeRef::Date => quote! { chrono::NaiveDate },
        TypeRef::Uuid => quote! { uuid::Uuid },
        TypeRef::Json => quote! { serde_json::Value },
        TypeRef::Vec(inner) => {
            let inner = type_tokens(inner);
            quote! { Vec<#inner> }
        }
        TypeRef::Map(inner) => {
            let inner = type_tokens(inner);
            quote! { std::collections::BTreeMap<String, #inner> }
        }
    }
}

/// Every named type's items, one chunk per type, made on demand.
pub fn emit_type_chunks(api: &Api) -> impl Iterator<Item = super::Chunk<'_>> {
    let types = api.types.values().map(move |def| {
        super::chunk(move || if api.common.contains(&def.name) { emit_common_reexport(&def.name) } else { emit_type(api, def) })
    });
    types.chain(api.repeated.iter().map(|repeat| super::chunk(move || emit_repeated(repeat))))
}

/// A type of the crate's common module, re-exported where the document defines it (rustdoc
/// shows the type in place: the common module is private).
fn emit_common_reexport(name: &str) -> TokenStream {
    let (module, name) = (format_ident!("{}", crate::layout::COMMON_MODULE), format_ident!("{}", name));
    quote! { pub use super::#module::#name; }
}

/// The crate's common module: each type once, with a doc line naming the modules that share it.
pub fn emit_common_module(common: &CommonTypes) -> TokenStream {
    // The common types are leaves (`lower::common`): emitting them needs no other type, so the
    // module is emitted as an API of its own that holds only them, each with its doc line.
    let types = common
        .types
        .iter()
        .map(|(name, shared)| {
            let mut modules: Vec<String> = shared.modules.iter().map(|module| format!("`{module}`")).collect();
            let last = modules.pop().unwrap_or_default();
            let line = format!("One type for the modules {} and {last}: their documents define it alike.", modules.join(", "));
            let mut def = shared.def.clone();
            def.doc = Some(match def.doc.take() {
                Some(doc) => format!("{doc}\n\n{line}"),
                None => line,
            });
            (name.clone(), def)
        })
        .collect();
    let module = Api { module: crate::layout::COMMON_MODULE.to_string(), types, ..Api::default() };
    let items = module.types.values().map(|def| emit_type(&module, def));
    quote! {
        //! Types that several documents of the crate define alike, defined once; each models
        //! module re-exports the ones its document has.
        #![allow(deprecated)]
        #(#items)*
    }
}

/// A repeated schema's name, kept as a re-export of the one type it is.
fn emit_repeated(repeated: &RepeatedType) -> TokenStream {
    let doc = format!(" The same type as [`{}`]: the schema at `{}` repeats it.", repeated.same_as, repeated.origin);
    super::reexport_as(&repeated.name, &repeated.same_as, &doc)
}

fn emit_type(api: &Api, def: &TypeDef) -> TokenStream {
    let docs = doc_attrs(def.doc.as_deref());
    let deprecated = if def.deprecated { quote! { #[deprecated] } } else { TokenStream::new() };
    let ident = format_ident!("{}", def.name);
    let body = match &def.kind {
        TypeKind::Struct(s) => emit_struct(api, &ident, s),
        TypeKind::Enum(e) => emit_enum(&ident, e),
        TypeKind::Union(u) => emit_union(api, def, &ident, u),
        TypeKind::Map(m) => emit_map(def, &ident, m),
        TypeKind::Newtype(n) => emit_newtype(def, &ident, n),
        TypeKind::Alias(target) => {
            let target = type_tokens(target);
            quote! { pub type #ident = #target; }
        }
    };
    quote! {
        #docs
        #deprecated
        #body
    }
}

fn field_type(field: &Field) -> TokenStream {
    let inner = type_tokens(&field.ty);
    let inner = if field.boxed { quote! { Box<#inner> } } else { inner };
    match field.presence {
        Presence::Required => inner,
        Presence::RequiredNullable | Presence::Optional => quote! { Option<#inner> },
    }
}

fn emit_struct(api: &Api, ident: &proc_macro2::Ident, def: &StructDef) -> TokenStream {
    let fields = def.fields.iter().map(|field| {
        let name = format_ident!("{}", field.name);
        let ty = field_type(field);
        let mut docs = field.doc.clone().unwrap_or_default();
        if let Some(default) = &field.default {
            if !docs.is_empty() {
                docs.push_str("\n\n");
            }
            docs.push_str(&format!("Default when absent: `{default}`."));
        }
        let docs = doc_attrs((!docs.is_empty()).then_some(docs.as_str()));
        let deprecated = if field.deprecated { quote! { #[deprecated] } } else { TokenStream::new() };
        let rename = (field.wire_name != field.name).then(|| field.wire_name.clone());
        let rename = rename.map(|wire| quote! { rename = #wire, });
        let serde = match field.presence {
            Presence::Required => match rename {
                Some(rename) => quote! { #[serde(#rename)] },
                None => TokenStream::new(),
            },
            Presence::RequiredNullable => quote! { #[serde(#rename deserialize_with = "super::support::required_nullable")] },
            Presence::Optional => quote! { #[serde(#rename default, skip_serializing_if = "Option::is_none")] },
        };
        quote! {
            #docs
            #deprecated
            #serde
            pub #name: #ty,
        }
    });
    let extra = def.extra.as_ref().map(|extra| {
        let name = format_ident!("{}", extra.name);
        let value = type_tokens(&extra.value);
        quote! {
            /// Members the spec does not list, kept so nothing is lost.
            #[serde(flatten)]
            pub #name: std::collections::BTreeMap<String, #value>,
        }
    });
    let all_optional = def.fields.iter().all(|f| f.presence == Presence::Optional);
    let derive_default = if all_optional { quote! { Default, } } else { TokenStream::new() };
    let constructor = (!all_optional).then(|| emit_constructor(ident, def));
    let setters = emit_setters(api, ident, def);
    let accessors = emit_default_accessors(api, ident, def);
    let has_secret = def.fields.iter().any(|f| f.secret);
    let derive_debug = if has_secret { TokenStream::new() } else { quote! { Debug, } };
    let debug = has_secret.then(|| emit_redacted_debug(ident, def));
    quote! {
        #[derive(#derive_debug Clone, PartialEq, #derive_default serde::Serialize, serde::Deserialize)]
        #[non_exhaustive]
        pub struct #ident {
            #(#fields)*
            #extra
        }
        #debug
        #constructor
        #setters
        #accessors
    }
}

/// `Debug` for a struct with credential fields: those show as `[redacted]` (set or not).
fn emit_redacted_debug(ident: &proc_macro2::Ident, def: &StructDef) -> TokenStream {
    let name = ident.to_string();
    let fields = def.fields.iter().map(|field| {
        let member = format_ident!("{}", field.name);
        let label = &field.name;
        if field.secret {
            quote! { .field(#label, &"[redacted]") }
        } else {
            quote! { .field(#label, &self.#member) }
        }
    });
    let extra = def.extra.as_ref().map(|extra| {
        let member = format_ident!("{}", extra.name);
        let label = &extra.name;
        quote! { .field(#label, &self.#member) }
    });
    quote! {
        impl std::fmt::Debug for #ident {
            #[allow(deprecated)]
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(#name) #(#fields)* #extra .finish()
            }
        }
    }
}

/// Whether values of `ty` are checked on construction (so a setter taking them can fail).
fn is_validated(api: &Api, ty: &TypeRef) -> bool {
    match ty {
        TypeRef::Named(name) => match api.types.get(name).map(|d| &d.kind) {
            Some(TypeKind::Newtype(_) | TypeKind::Map(_)) => true,
            Some(TypeKind::Alias(target)) => is_validated(api, target),
            _ => false,
        },
        _ => false,
    }
}

/// `with_<field>(value)` for every optional field: structs are `#[non_exhaustive]`, so values are
/// built from `new` (or `default`) plus these. A validated field's setter takes anything that
/// converts into its newtype (`&str`, `String`, the newtype itself) and returns the rule's error.
fn emit_setters(api: &Api, ident: &proc_macro2::Ident, def: &StructDef) -> TokenStream {
    let setters = def.fields.iter().filter(|f| f.presence == Presence::Optional).map(|field| {
        let name = format_ident!("{}", field.name);
        let setter = format_ident!("{}", field.setter);
        let ty = type_tokens(&field.ty);
        let wrap = |value: TokenStream| if field.boxed { quote! { Box::new(#value) } } else { value };
        let deprecated = if field.deprecated { quote! { #[deprecated] } } else { TokenStream::new() };
        if is_validated(api, &field.ty) {
            let doc = format!(" Sets `{}`; fails with the spec's rule when the value breaks it.", field.wire_name);
            let value = wrap(quote! { value.try_into().map_err(Into::into)? });
            quote! {
                #[doc = #doc]
                #deprecated
                #[allow(deprecated)]
                pub fn #setter<V>(mut self, value: V) -> Result<Self, super::support::ValidationError>
                where
                    V: TryInto<#ty>,
                    V::Error: Into<super::support::ValidationError>,
                {
                    self.#name = Some(#value);
                    Ok(self)
                }
            }
        } else {
            let doc = format!(" Sets `{}`.", field.wire_name);
            let value = wrap(quote! { value.into() });
            quote! {
                #[doc = #doc]
                #deprecated
                #[allow(deprecated)]
                pub fn #setter(mut self, value: impl Into<#ty>) -> Self {
                    self.#name = Some(#value);
                    self
                }
            }
        }
    });
    let setters: Vec<TokenStream> = setters.collect();
    if setters.is_empty() {
        return TokenStream::new();
    }
    quote! { impl #ident { #(#setters)* } }
}

/// `new` taking the required (and required-nullable) fields; the others start as `None`.
fn emit_constructor(ident: &proc_macro2::Ident, def: &StructDef) -> TokenStream {
    let required: Vec<&Field> = def.fields.iter().filter(|f| f.presence != Presence::Optional).collect();
    let params = required.iter().map(|field| {
        let name = format_ident!("{}", field.name);
        let ty = field_type(field);
        quote! { #name: #ty }
    });
    let inits = def.fields.iter().map(|field| {
        let name = format_ident!("{}", field.name);
        if field.presence == Presence::Optional {
            quote! { #name: None }
        } else {
            quote! { #name }
        }
    });
    let extra = def.extra.as_ref().map(|extra| {
        let name = format_ident!("{}", extra.name);
        quote! { #name: Default::default(), }
    });
    quote! {
        impl #ident {
            /// A value with the required fields set and every optional field `None`.
            #[allow(clippy::too_many_arguments, deprecated)]
            pub fn new(#(#params),*) -> Self {
                Self { #(#inits,)* #extra }
            }
        }
    }
}

/// `<field>_or_default()` for optional fields whose spec default can be written as a literal.
fn emit_default_accessors(api: &Api, ident: &proc_macro2::Ident, def: &StructDef) -> TokenStream {
    let methods = def.fields.iter().filter(|f| f.presence == Presence::Optional).filter_map(|field| {
        let default = field.default.as_ref()?;
        let value = default_literal(api, &field.ty, default)?;
        let name = format_ident!("{}", field.name);
        let method = format_ident!("{}", field.default_accessor);
        let ty = type_tokens(&field.ty);
        let doc = format!(" `{}`, or the spec's default `{default}` when absent.", field.wire_name);
        let body = match (&field.ty, value) {
            (TypeRef::Bool | TypeRef::I32 | TypeRef::I64 | TypeRef::F64, value) => quote! { self.#name.unwrap_or(#value) },
            (TypeRef::String, value) => quote! { self.#name.clone().unwrap_or_else(|| #value) },
            (_, value) => quote! { self.#name.clone().unwrap_or(#value) },
        };
        Some(quote! {
            #[doc = #doc]
            #[allow(deprecated)]
            pub fn #method(&self) -> #ty {
                #body
            }
        })
    });
    let methods: Vec<TokenStream> = methods.collect();
    if methods.is_empty() {
        return TokenStream::new();
    }
    quote! { impl #ident { #(#methods)* } }
}

/// A literal for a default value of a simple type, or None when it has no simple spelling.
fn default_literal(api: &Api, ty: &TypeRef, value: &serde_json::Value) -> Option<TokenStream> {
    match (ty, value) {
        (TypeRef::Bool, serde_json::Value::Bool(b)) => Some(quote! { #b }),
        (TypeRef::I64, serde_json::Value::Number(n)) => n.as_i64().map(|n| quote! { #n }),
        (TypeRef::I32, serde_json::Value::Number(n)) => n.as_i64().and_then(|n| i32::try_from(n).ok()).map(|n| quote! { #n }),
        (TypeRef::F64, serde_json::Value::Number(n)) => n.as_f64().map(|n| quote! { #n }),
        (TypeRef::String, serde_json::Value::String(s)) => Some(quote! { #s.to_string() }),
        (TypeRef::Named(name), serde_json::Value::String(s)) => match &api.types.get(name)?.kind {
            TypeKind::Enum(e) => {
                let variant = e.variants.iter().find(|v| &v.wire == s)?;
                let ident = format_ident!("{}", name);
                let variant = format_ident!("{}", variant.name);
                Some(quote! { #ident::#variant })
            }
            _ => None,
        },
        _ => None,
    }
}

fn emit_enum(ident: &proc_macro2::Ident, def: &EnumDef) -> TokenStream {
    let unknown = format_ident!("{}", def.unknown_variant);
    let variants = def.variants.iter().enumerate().map(|(index, variant)| {
        let name = format_ident!("{}", variant.name);
        let doc = format!(" `{}`", variant.wire);
        let default = if def.default == Some(index) { quote! { #[default] } } else { TokenStream::new() };
        quote! { #[doc = #doc] #default #name, }
    });
    let derive_default = if def.default.is_some() { quote! { Default, } } else { TokenStream::new() };
    let wire_pairs = def.variants.iter().map(|variant| {
        let name = format_ident!("{}", variant.name);
        let wire = &variant.wire;
        quote! { #name = #wire }
    });
    quote! {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, #derive_default)]
        #[non_exhaustive]
        pub enum #ident {
            #(#variants)*
            /// A value this version of the spec does not list, kept as it was received.
            #unknown(String),
        }
        super::support::string_enum!(#ident, #unknown, [#(#wire_pairs),*]);
    }
}

fn emit_union(api: &Api, def: &TypeDef, ident: &proc_macro2::Ident, union: &UnionDef) -> TokenStream {
    let type_name = &def.name;
    let variants = union.variants.iter().map(|variant| {
        let name = format_ident!("{}", variant.name);
        let ty = type_tokens(&variant.ty);
        let ty = if variant.boxed { quote! { Box<#ty> } } else { ty };
        quote! { #name(#ty), }
    });
    let decode = |index: usize| {
        let variant = &union.variants[index];
        let name = format_ident!("{}", variant.name);
        quote! { serde_json::from_value(value).map(Self::#name).map_err(serde::de::Error::custom) }
    };
    let body = match &union.strategy {
        UnionStrategy::ByProperty => {
            let branches = union.variants.iter().map(|variant| {
                let name = &variant.name;
                let properties = &variant.properties;
                quote! { (#name, &[#(#properties),*]) }
            });
            let arms = (0..union.variants.len()).map(|index| {
                let decode = decode(index);
                let index = Literal::usize_unsuffixed(index);
                quote! { #index => #decode, }
            });
            quote! {
                let object = value.as_object().ok_or_else(|| serde::de::Error::custom(concat!(#type_name, ": expected a JSON object")))?;
                let branch = super::support::pick_branch_by_properties(#type_name, object, &[#(#branches),*])
                    .map_err(serde::de::Error::custom)?;
                match branch {
                    #(#arms)*
                    _ => unreachable!("pick_branch_by_properties returns a branch index"),
                }
            }
        }
        UnionStrategy::Discriminator { property } => {
            let arms = union.variants.iter().enumerate().map(|(index, variant)| {
                let tags = &variant.tags;
                let decode = decode(index);
                quote! { #(#tags)|* => #decode, }
            });
            let message = format!("{type_name}: unknown value of discriminator `{property}`: ");
            let missing = format!("{type_name}: missing discriminator `{property}`");
            quote! {
                let tag = value.get(#property).and_then(serde_json::Value::as_str).map(str::to_string)
                    .ok_or_else(|| serde::de::Error::custom(#missing))?;
                match tag.as_str() {
                    #(#arms)*
                    other => Err(serde::de::Error::custom(format!("{}{}", #message, other))),
                }
            }
        }
        UnionStrategy::Untagged => {
            let attempts = union.variants.iter().map(|variant| {
                let name = format_ident!("{}", variant.name);
                quote! {
                    if let Ok(parsed) = serde_json::from_value(value.clone()) {
                        return Ok(Self::#name(parsed));
                    }
                }
            });
            let message = format!("{type_name}: the value matches none of the branches");
            quote! {
                #(#attempts)*
                Err(serde::de::Error::custom(#message))
            }
        }
    };
    let serialize_arms = union.variants.iter().map(|variant| {
        let name = format_ident!("{}", variant.name);
        let tag_missing = match &union.strategy {
            UnionStrategy::Discriminator { property } => !variant_has_property(api, &variant.ty, property),
            _ => false,
        };
        match (&union.strategy, tag_missing) {
            (UnionStrategy::Discriminator { property }, true) => {
                let tag = variant.tags.first().cloned().unwrap_or_default();
                quote! {
                    Self::#name(inner) => {
                        let mut value = serde_json::to_value(inner).map_err(serde::ser::Error::custom)?;
                        if let Some(object) = value.as_object_mut() {
                            object.insert(#property.to_string(), serde_json::Value::String(#tag.to_string()));
                        }
                        serde::Serialize::serialize(&value, serializer)
                    }
                }
            }
            _ => quote! { Self::#name(inner) => serde::Serialize::serialize(inner, serializer), },
        }
    });
    let constructors = emit_branch_constructors(api, ident, union);
    quote! {
        #[derive(Debug, Clone, PartialEq)]
        #[allow(clippy::large_enum_variant)]
        #[non_exhaustive]
        pub enum #ident {
            #(#variants)*
        }
        #constructors
        impl serde::Serialize for #ident {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    #(#serialize_arms)*
                }
            }
        }
        impl<'de> serde::Deserialize<'de> for #ident {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
                #body
            }
        }
    }
}

/// `Union::<field>(value)` per constructor lowering decided on.
fn emit_branch_constructors(api: &Api, ident: &proc_macro2::Ident, union: &UnionDef) -> TokenStream {
    if union.constructors.is_empty() {
        return TokenStream::new();
    }
    let methods = union.constructors.iter().map(|constructor| {
        let name = format_ident!("{}", constructor.name);
        let variant = format_ident!("{}", constructor.variant);
        let branch = format_ident!("{}", constructor.branch);
        let setter = format_ident!("{}", constructor.setter);
        let ty = type_tokens(&constructor.field_ty);
        let doc = format!(" The `{}` branch, from its `{}`.", constructor.variant, constructor.wire_name);
        if is_validated(api, &constructor.field_ty) {
            let value = quote! { value.try_into().map_err(Into::into)? };
            let built = if constructor.optional { quote! { #branch::default().#setter(value)? } } else { quote! { #branch::new(#value) } };
            quote! {
                #[doc = #doc]
                #[doc = " Fails with the spec's rule when the value breaks it."]
                pub fn #name<V>(value: V) -> Result<Self, super::support::ValidationError>
                where
                    V: TryInto<#ty>,
                    V::Error: Into<super::support::ValidationError>,
                {
                    Ok(Self::#variant(#built))
                }
            }
        } else {
            let built = if constructor.optional { quote! { #branch::default().#setter(value) } } else { quote! { #branch::new(value.into()) } };
            quote! {
                #[doc = #doc]
                pub fn #name(value: impl Into<#ty>) -> Self {
                    Self::#variant(#built)
                }
            }
        }
    });
    quote! {
        impl #ident {
            #(#methods)*
        }
    }
}

fn variant_has_property(api: &Api, ty: &TypeRef, property: &str) -> bool {
    match ty {
        TypeRef::Named(name) => match api.types.get(name).map(|d| &d.kind) {
            Some(TypeKind::Struct(s)) => s.fields.iter().any(|f| f.wire_name == property),
            Some(TypeKind::Alias(target)) => variant_has_property(api, target, property),
            _ => false,
        },
        _ => false,
    }
}

fn emit_map(def: &TypeDef, ident: &proc_macro2::Ident, map: &MapDef) -> TokenStream {
    let value = type_tokens(&map.value);
    let type_name = &def.name;
    let field = crate::load::property_of_pointer(&def.origin);
    let min = usize_option(map.min_properties);
    let max = usize_option(map.max_properties);
    quote! {
        #[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
        #[serde(transparent)]
        pub struct #ident(std::collections::BTreeMap<String, #value>);
        impl #ident {
            /// Checks the entry count and wraps the map.
            pub fn new(entries: std::collections::BTreeMap<String, #value>) -> Result<Self, super::support::ValidationError> {
                super::support::check_properties(#type_name, #field, entries.len(), #min, #max)?;
                Ok(Self(entries))
            }
            /// The entries.
            pub fn as_map(&self) -> &std::collections::BTreeMap<String, #value> {
                &self.0
            }
            /// The entries, unwrapped.
            pub fn into_inner(self) -> std::collections::BTreeMap<String, #value> {
                self.0
            }
        }
        impl TryFrom<std::collections::BTreeMap<String, #value>> for #ident {
            type Error = super::support::ValidationError;
            fn try_from(entries: std::collections::BTreeMap<String, #value>) -> Result<Self, Self::Error> {
                Self::new(entries)
            }
        }
        impl<'de> serde::Deserialize<'de> for #ident {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let entries = <std::collections::BTreeMap<String, #value> as serde::Deserialize>::deserialize(deserializer)?;
                Self::new(entries).map_err(serde::de::Error::custom)
            }
        }
    }
}

fn bound_tokens(bound: Option<(Number, bool)>, inner: &TypeRef) -> TokenStream {
    match bound {
        None => quote! { None },
        Some((number, exclusive)) => {
            let literal = match (number, inner) {
                (Number::Int(v), TypeRef::I32) => Literal::i32_unsuffixed(v as i32),
                (Number::Int(v), _) => Literal::i64_unsuffixed(v),
                (Number::Float(v), TypeRef::F32) => Literal::f32_unsuffixed(v as f32),
                (Number::Float(v), _) => Literal::f64_unsuffixed(v),
            };
            quote! { Some((#literal, #exclusive)) }
        }
    }
}

fn emit_newtype(def: &TypeDef, ident: &proc_macro2::Ident, newtype: &NewtypeDef) -> TokenStream {
    let field = crate::load::property_of_pointer(&def.origin);
    let rules = &newtype.rules;
    let inner = type_tokens(&newtype.inner);
    let rules_doc = format!(" Spec rules: {}.", rules_text(rules));
    // A blank line between the description and the rules, when there is a description.
    let rules_doc = match def.doc {
        Some(_) => quote! { #[doc = ""] #[doc = #rules_doc] },
        None => quote! { #[doc = #rules_doc] },
    };
    match &newtype.inner {
        TypeRef::String => {
            let pattern = match &rules.pattern {
                Some(pattern) => quote! { Some(#pattern) },
                None => quote! { None },
            };
            let (min, max) = (usize_option(rules.min_length), usize_option(rules.max_length));
            quote! {
                #rules_doc
                #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
                #[serde(transparent)]
                pub struct #ident(String);
                super::support::string_newtype!(#ident, #field, #min, #max, #pattern);
            }
        }
        TypeRef::Vec(item) => {
            let (min, max) = (usize_option(rules.min_items), usize_option(rules.max_items));
            let item = type_tokens(item);
            quote! {
                #rules_doc
                #[derive(Debug, Clone, PartialEq, serde::Serialize)]
                #[serde(transparent)]
                pub struct #ident(Vec<#item>);
                super::support::list_newtype!(#ident, #item, #field, #min, #max);
            }
        }
        numeric => {
            let min = bound_tokens(rules.minimum, numeric);
            let max = bound_tokens(rules.maximum, numeric);
            let derives = if matches!(numeric, TypeRef::F32 | TypeRef::F64) {
                quote! { #[derive(Debug, Clone, Copy, PartialEq, PartialOrd, serde::Serialize)] }
            } else {
                quote! { #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)] }
            };
            quote! {
                #rules_doc
                #derives
                #[serde(transparent)]
                pub struct #ident(#inner);
                super::support::number_newtype!(#ident, #inner, #field, #min, #max);
            }
        }
    }
}

/// The rules a newtype checks, as its doc comment states them (JSON Schema keywords).
fn rules_text(rules: &Rules) -> String {
    let number = |number: Number| match number {
        Number::Int(v) => v.to_string(),
        Number::Float(v) => v.to_string(),
    };
    let mut parts = Vec::new();
    if let Some(min) = rules.min_length {
        parts.push(format!("`minLength` {min}"));
    }
    if let Some(max) = rules.max_length {
        parts.push(format!("`maxLength` {max}"));
    }
    if let Some(pattern) = &rules.pattern {
        parts.push(format!("`pattern` `{pattern}`"));
    }
    if let Some((min, exclusive)) = rules.minimum {
        parts.push(format!("`{}` {}", if exclusive { "exclusiveMinimum" } else { "minimum" }, number(min)));
    }
    if let Some((max, exclusive)) = rules.maximum {
        parts.push(format!("`{}` {}", if exclusive { "exclusiveMaximum" } else { "maximum" }, number(max)));
    }
    if let Some(min) = rules.min_items {
        parts.push(format!("`minItems` {min}"));
    }
    if let Some(max) = rules.max_items {
        parts.push(format!("`maxItems` {max}"));
    }
    if parts.is_empty() { "none beyond the type".to_string() } else { parts.join(", ") }
}

#[cfg(test)]
mod doc_tests {
    use super::*;

    #[test]
    fn lazy_list_continuations_are_indented_under_their_item() {
        let doc = "One of:\n- `A`: first.\nExample: more about A.\n12. twelve\nstill twelve\n\nAfter the list.\n```json\n{ }\n```";
        assert_eq!(
            doc_lines(doc),
            ["One of:", "- `A`: first.", "  Example: more about A.", "12. twelve", "    still twelve", "", "After the list.", "```text", "{ }", "```"]
        );
    }
}
