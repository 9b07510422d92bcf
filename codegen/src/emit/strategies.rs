//! Emit stage for the proptest strategies of one API (the generated crate's `proptest` feature).
//!
//! For every named type that a client-side operation sends (request bodies and parameters, of the
//! operations not served by the merchant) a strategy of valid values: `pub fn <type>()`. For every
//! request body, one strategy per constraint site that breaks that constraint and nothing else:
//! `broken_<body>()`, with the sites listed in `<BODY>_SITES`. `request_bodies()` and
//! `all_types()` are the tables a test walks. Everything is derived from the IR; what the spec
//! leaves open (alphabets, sizes without bounds, map keys, free JSON) is chosen in the
//! hand-written `strategy_support.rs.in`, which says so item by item.

use std::collections::BTreeMap;

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::usize_option;
use crate::ir::{
    Api, BodyStrategy, BranchStrategy, Field, Forced, NewtypeDef, Number, Presence, SiteBase, SiteLeaf, SiteStep, StructDef, TypeDef,
    TypeKind, TypeRef, UnionDef, UnionStrategy,
};

/// The strategy support module (spec-independent, `strategy_support.rs.in`) as the format stage
/// prints it: formatted once when the generator is built (`build.rs`), emitted as it is.
pub const STRATEGY_SUPPORT_FORMATTED: &str = include_str!(concat!(env!("OUT_DIR"), "/strategy_support.rs.in"));

/// The `mod.rs` entries of the strategies, behind the crate's `proptest` feature: the support
/// and one module per API (hidden at the crate root), and `strategies`, which names them by
/// their API's module (`strategies::<module>`) next to the shared support items.
pub fn emit_strategies_mod_entries(modules: &[String]) -> TokenStream {
    if modules.is_empty() {
        return TokenStream::new();
    }
    let declared = modules.iter().map(|m| {
        let ident = format_ident!("{}", crate::layout::strategies_module(m));
        quote! { #[cfg(feature = "proptest")] #[doc(hidden)] pub mod #ident; }
    });
    let named = modules.iter().map(|m| {
        let ident = format_ident!("{}", crate::layout::strategies_module(m));
        let alias = format_ident!("{}", m);
        quote! { pub use super::#ident as #alias; }
    });
    quote! {
        #[cfg(feature = "proptest")]
        #[doc(hidden)]
        pub mod strategy_support;
        #(#declared)*

        /// Proptest strategies of the request models, generated from the documents (feature
        /// `proptest`): valid values of every type a client-side operation sends, and per
        /// request body one strategy per constraint that breaks exactly that constraint.
        /// [`strategies::Broken`](Broken) and the tables ([`RequestBody`], [`TypeStrategy`])
        /// are shared by the modules.
        #[cfg(feature = "proptest")]
        pub mod strategies {
            #(#named)*
            pub use super::strategy_support::*;
        }
    }
}

/// The strategies module of one API. It refers to the models as `super::<module>` and to the
/// support as `super::strategy_support`.
pub fn emit_strategies_module(api: &Api, spec_display: &str) -> TokenStream {
    super::emit_whole(emit_strategies_module_chunks(api, spec_display))
}

/// [`emit_strategies_module`] as chunks: the head with the tables, then one per type strategy
/// and one per request body.
pub fn emit_strategies_module_chunks<'a>(api: &'a Api, spec_display: &str) -> Vec<super::Chunk<'a>> {
    let plan = &api.strategies;
    let emitter = Emitter { api };
    let doc = format!(
        " {} {} (from `{spec_display}`): proptest strategies of the request models (feature `proptest`).",
        api.title, api.version
    );
    let head = super::chunk(move || emitter.emit_head(&doc));
    let types = plan.types.iter().map(move |name| super::chunk(move || emitter.emit_valid(&api.types[name])));
    let bodies = plan.bodies.iter().map(move |body| super::chunk(move || emitter.emit_broken(body)));
    let repeated = plan.repeated.iter().map(|(name, same_as)| {
        super::chunk(move || {
            super::reexport_as(name, same_as, &format!(" The same strategy as [`{same_as}`], whose type this name's type repeats."))
        })
    });
    std::iter::once(head).chain(types).chain(bodies).chain(repeated).collect()
}


/// The pattern with its outer anchors removed, for proptest's generator (which has no anchors).
fn generator_pattern(pattern: &str) -> String {
    let rest = pattern.strip_prefix('^').unwrap_or(pattern);
    match rest.strip_suffix('$') {
        Some(inner) if inner.chars().rev().take_while(|c| *c == '\\').count() % 2 == 0 => inner.to_string(),
        _ => rest.to_string(),
    }
}

fn count(value: usize) -> Literal {
    Literal::usize_unsuffixed(value)
}

/// `min + SMALL`, the upper size where the spec gives none.
fn small_above(min: usize) -> TokenStream {
    if min == 0 {
        return quote! { support::SMALL };
    }
    let min = count(min);
    quote! { #min + support::SMALL }
}

/// An integer as tokens of type `bits` (`i32` or `i64`): negative values as a negation, the
/// extremes by name.
fn int_tokens(value: i64, bits: &str) -> TokenStream {
    let ty = format_ident!("{}", bits);
    let (lowest, highest) = if bits == "i32" { (i64::from(i32::MIN), i64::from(i32::MAX)) } else { (i64::MIN, i64::MAX) };
    if value <= lowest {
        return quote! { #ty::MIN };
    }
    if value >= highest {
        return quote! { #ty::MAX };
    }
    let literal = if bits == "i32" { Literal::i32_suffixed(value.unsigned_abs() as i32) } else { Literal::i64_suffixed(value.unsigned_abs() as i64) };
    if value < 0 { quote! { -#literal } } else { quote! { #literal } }
}

/// A float as tokens: negative values as a negation.
fn float_tokens(value: f64) -> TokenStream {
    let literal = Literal::f64_suffixed(value.abs());
    if value < 0.0 { quote! { -#literal } } else { quote! { #literal } }
}

/// Translates an API's strategy plan (`api.strategies`) into tokens.
#[derive(Clone, Copy)]
struct Emitter<'a> {
    api: &'a Api,
}

impl Emitter<'_> {
    /// The module's inner attributes, imports and tables (`request_bodies`, `all_types`).
    fn emit_head(&self, doc: &str) -> TokenStream {
        let api = self.api;
        let plan = &api.strategies;
        let models = format_ident!("{}", api.module);
        let skipped_doc = (!plan.skipped.is_empty()).then(|| {
            let names: Vec<String> = plan.skipped.iter().map(|n| format!("`{n}`")).collect();
            let text = format!(
                " Not generated, since they contain themselves (a cycle) or a type that does: {}.",
                names.join(", ")
            );
            quote! { #![doc = ""] #![doc = #text] }
        });
        // An API whose client sends nothing named has no strategies, and no use for these imports.
        let uses = (!plan.types.is_empty()).then(|| {
            quote! {
                use proptest::strategy::BoxedStrategy;
                // For `prop_map` and `boxed`, which not every module's strategies call.
                #[allow(unused_imports)]
                use proptest::strategy::Strategy as _;
                use super::#models as model;
            }
        });
        let body_uses = (!plan.bodies.is_empty()).then(|| {
            quote! {
                use support::{Bad, Step};
            }
        });
        let body_rows = plan.bodies.iter().map(|body| self.emit_body_row(body));
        let type_rows = plan.types.iter().map(|name| {
            let function = self.fn_ident(name);
            let ident = format_ident!("{}", name);
            let origin = &api.types[name].origin;
            quote! { #ident => #function, #origin }
        });
        quote! {
            #![doc = #doc]
            #![doc = ""]
            #![doc = " Valid values keep every rule of the spec; `broken_*` bodies break exactly one."]
            #skipped_doc
            #![allow(deprecated)]
            #uses
            use super::strategy_support as support;
            #body_uses

            /// Every request body sent by a client-side operation, with its strategies.
            pub fn request_bodies() -> Vec<support::RequestBody> {
                Vec::from([#(#body_rows)*])
            }

            /// Every type with a strategy, with its schema.
            pub fn all_types() -> Vec<support::TypeStrategy> {
                support::type_strategies![#(#type_rows);*]
            }
        }
    }

    fn fn_ident(&self, type_name: &str) -> Ident {
        format_ident!("{}", self.api.strategies.fn_names[type_name])
    }

    /// A `BoxedStrategy<T>` expression of valid values of a type use.
    fn strategy_of(&self, ty: &TypeRef) -> TokenStream {
        match ty {
            TypeRef::Named(name) => {
                let function = self.fn_ident(name);
                quote! { #function() }
            }
            TypeRef::String => quote! { support::text(0, None) },
            TypeRef::Bool => quote! { proptest::arbitrary::any::<bool>().boxed() },
            TypeRef::I32 => quote! { proptest::arbitrary::any::<i32>().boxed() },
            TypeRef::I64 => quote! { proptest::arbitrary::any::<i64>().boxed() },
            TypeRef::F32 => quote! { support::any_f64().prop_map(|value| value as f32).boxed() },
            TypeRef::F64 => quote! { support::any_f64() },
            TypeRef::DateTime => quote! { support::date_time() },
            TypeRef::Date => quote! { support::date() },
            TypeRef::Uuid => quote! { support::uuid() },
            TypeRef::Json => quote! { support::free_json() },
            TypeRef::Vec(inner) => {
                let inner = self.strategy_of(inner);
                quote! { support::list(#inner, 0, support::SMALL) }
            }
            TypeRef::Map(inner) => {
                let inner = self.strategy_of(inner);
                quote! { support::map(#inner, 0, support::SMALL) }
            }
        }
    }

    /// A `BoxedStrategy<serde_json::Value>` expression of valid values of a type use, as JSON.
    fn json_of(&self, ty: &TypeRef) -> TokenStream {
        let strategy = self.strategy_of(ty);
        quote! { support::json_of(#strategy) }
    }

    /// The valid strategy of a named type (and of its union branches).
    fn emit_valid(&self, def: &TypeDef) -> TokenStream {
        let function = self.fn_ident(&def.name);
        let ident = format_ident!("{}", def.name);
        let name = &def.name;
        let (doc, body, extra) = match &def.kind {
            TypeKind::Struct(s) => {
                (format!(" Valid `{name}` values: required fields always, optional ones sometimes."), self.struct_strategy(name, s, &BTreeMap::new()), TokenStream::new())
            }
            TypeKind::Enum(_) => (
                format!(" `{name}` values the spec lists (never the unknown variant)."),
                quote! { proptest::sample::select(model::#ident::KNOWN).boxed() },
                TokenStream::new(),
            ),
            TypeKind::Union(union) => {
                let mut branch_fns = Vec::new();
                let branches = union.variants.iter().enumerate().map(|(index, variant)| {
                    let variant_ident = format_ident!("{}", variant.name);
                    let strategy = match self.api.strategies.branches.get(&(name.clone(), index)) {
                        Some(branch) => {
                            let branch_fn = &branch.fn_name;
                            branch_fns.push(self.emit_branch(name, union, index, branch));
                            let branch_fn = format_ident!("{}", branch_fn);
                            quote! { #branch_fn() }
                        }
                        None => self.strategy_of(&variant.ty),
                    };
                    let wrap = if variant.boxed { quote! { |value| model::#ident::#variant_ident(Box::new(value)) } } else { quote! { model::#ident::#variant_ident } };
                    quote! { #strategy.prop_map(#wrap).boxed() }
                });
                let branches: Vec<TokenStream> = branches.collect();
                let doc = match union.strategy {
                    UnionStrategy::ByProperty => format!(" Valid `{name}` values: one branch, with its properties present."),
                    UnionStrategy::Discriminator { .. } => format!(" Valid `{name}` values: one branch, with its tag."),
                    UnionStrategy::Untagged => format!(" Valid `{name}` values: one branch."),
                };
                (doc, quote! { proptest::strategy::Union::new([#(#branches),*]).boxed() }, quote! { #(#branch_fns)* })
            }
            TypeKind::Map(map) => {
                let value = self.strategy_of(&map.value);
                let min = map.min_properties.unwrap_or(0);
                let max = match map.max_properties {
                    Some(max) => {
                        let max = count(max);
                        quote! { #max }
                    }
                    None => small_above(min),
                };
                let min = count(min);
                (
                    format!(" Valid `{name}` values: between minProperties and maxProperties entries."),
                    quote! { support::checked(support::map(#value, #min, #max)) },
                    TokenStream::new(),
                )
            }
            TypeKind::Newtype(newtype) => (format!(" Valid `{name}` values: within the spec's rules."), self.newtype_strategy(&ident, newtype), TokenStream::new()),
            TypeKind::Alias(target) => (format!(" Valid `{name}` values."), self.strategy_of(target), TokenStream::new()),
        };
        quote! {
            #[doc = #doc]
            pub fn #function() -> BoxedStrategy<model::#ident> {
                #body
            }
            #extra
        }
    }

    /// The strategy function of a union branch that fixes some of its fields.
    fn emit_branch(&self, union_name: &str, union: &UnionDef, index: usize, branch: &BranchStrategy) -> TokenStream {
        let variant = &union.variants[index];
        let struct_name = &branch.struct_name;
        let TypeKind::Struct(def) = &self.api.types[struct_name].kind else { unreachable!("branch strategies are of structs") };
        let ident = format_ident!("{}", struct_name);
        let function = format_ident!("{}", branch.fn_name);
        let body = self.struct_strategy(struct_name, def, &branch.forced);
        let doc = match &union.strategy {
            UnionStrategy::Discriminator { property } => format!(" Valid `{struct_name}` values as the `{}` branch of `{union_name}`: `{property}` is its tag.", variant.name),
            _ => format!(" Valid `{struct_name}` values as the `{}` branch of `{union_name}`: its properties present.", variant.name),
        };
        quote! {
            #[doc = #doc]
            pub fn #function() -> BoxedStrategy<model::#ident> {
                #body
            }
        }
    }

    fn field_strategy(&self, field: &Field, forced: Option<&Forced>) -> TokenStream {
        let mut value = match forced {
            Some(Forced::Tag(tag)) => {
                let ty = crate::emit::type_tokens(&field.ty);
                let ty = match &field.ty {
                    TypeRef::Named(_) => quote! { model::#ty },
                    _ => ty,
                };
                quote! { support::tag_value::<#ty>(#tag) }
            }
            // A URI kept as a plain string: still a URI in every generated value.
            _ if field.uri && field.ty == TypeRef::String => quote! { support::uri() },
            _ => self.strategy_of(&field.ty),
        };
        if field.boxed {
            value = quote! { #value.prop_map(Box::new).boxed() };
        }
        match (field.presence, forced) {
            (Presence::Required, _) => value,
            (_, Some(_)) => quote! { #value.prop_map(Some).boxed() },
            _ => quote! { proptest::option::of(#value).boxed() },
        }
    }

    /// Builds a struct from a tuple of field strategies (nested: proptest tuples stop at 12).
    fn struct_strategy(&self, name: &str, def: &StructDef, forced: &BTreeMap<String, Forced>) -> TokenStream {
        let ident = format_ident!("{}", name);
        let extra = def.extra.as_ref().map(|extra| {
            let extra = format_ident!("{}", extra.name);
            quote! { #extra: Default::default(), }
        });
        let names: Vec<Ident> = def.fields.iter().map(|f| format_ident!("{}", f.name)).collect();
        if def.fields.is_empty() {
            return quote! { proptest::strategy::Just(model::#ident { #extra }).boxed() };
        }
        let items: Vec<(TokenStream, TokenStream)> = def
            .fields
            .iter()
            .zip(&names)
            .map(|(field, name)| (self.field_strategy(field, forced.get(&field.wire_name)), quote! { #name }))
            .collect();
        let (strategies, pattern) = tuple_tree(items);
        quote! {
            #strategies
                .prop_map(|#pattern| model::#ident { #(#names,)* #extra })
                .boxed()
        }
    }

    fn newtype_strategy(&self, ident: &Ident, newtype: &NewtypeDef) -> TokenStream {
        let rules = &newtype.rules;
        match &newtype.inner {
            TypeRef::String => {
                let min = count(rules.min_length.unwrap_or(0));
                let max = usize_option(rules.max_length);
                match &rules.pattern {
                    Some(pattern) => {
                        let generator = generator_pattern(pattern);
                        quote! { support::checked(support::text_matching(#generator, #min, #max)) }
                    }
                    None => quote! { support::checked(support::text(#min, #max)) },
                }
            }
            TypeRef::Vec(item) => {
                let item = self.strategy_of(item);
                let min = rules.min_items.unwrap_or(0);
                let max = match rules.max_items {
                    Some(max) => {
                        let max = count(max);
                        quote! { #max }
                    }
                    None => small_above(min),
                };
                let min = count(min);
                quote! { support::checked(support::list(#item, #min, #max)) }
            }
            TypeRef::I32 | TypeRef::I64 => {
                let bits = if newtype.inner == TypeRef::I32 { "i32" } else { "i64" };
                let bound = |bound: Option<(Number, bool)>, step: i64, fallback: i64| match bound {
                    Some((Number::Int(v), exclusive)) => if exclusive { v.saturating_add(step) } else { v },
                    Some((Number::Float(v), exclusive)) => {
                        let v = if step > 0 { v.floor() as i64 } else { v.ceil() as i64 };
                        if exclusive { v.saturating_add(step) } else { v }
                    }
                    None => fallback,
                };
                let lo = int_tokens(bound(rules.minimum, 1, i64::MIN), bits);
                let hi = int_tokens(bound(rules.maximum, -1, i64::MAX), bits);
                quote! { support::checked((#lo..=#hi).boxed()) }
            }
            TypeRef::F32 | TypeRef::F64 => {
                let value = |bound: Option<(Number, bool)>| {
                    bound.map(|(number, _)| match number {
                        Number::Int(v) => v as f64,
                        Number::Float(v) => v,
                    })
                };
                let (min, max) = (value(rules.minimum), value(rules.maximum));
                let (lo, hi) = match (min, max) {
                    (Some(lo), Some(hi)) => (lo, hi),
                    (Some(lo), None) => (lo, lo + 1e9),
                    (None, Some(hi)) => (hi - 1e9, hi),
                    (None, None) => (-1e9, 1e9),
                };
                let (lo, hi) = (float_tokens(lo), float_tokens(hi));
                let cast = if newtype.inner == TypeRef::F32 { quote! { value as f32 } } else { quote! { value } };
                quote! {
                    support::float_in(#lo, #hi)
                        .prop_filter_map("within exclusive bounds after rounding", |value| model::#ident::new(#cast).ok())
                        .boxed()
                }
            }
            other => {
                let strategy = self.strategy_of(other);
                quote! { support::checked(#strategy) }
            }
        }
    }

    /// A `BoxedStrategy<serde_json::Value>` expression of a base's valid values.
    fn base_json(&self, base: &SiteBase) -> TokenStream {
        match base {
            SiteBase::Type(ty) => self.json_of(ty),
            SiteBase::Branch(name, index) => {
                let TypeKind::Union(union) = &self.api.types[name].kind else { unreachable!("branch bases are union variants") };
                let ident = format_ident!("{}", name);
                let variant = &union.variants[*index];
                let variant_ident = format_ident!("{}", variant.name);
                let strategy = match self.api.strategies.branches.get(&(name.clone(), *index)).map(|branch| &branch.fn_name) {
                    Some(branch_fn) => {
                        let branch_fn = format_ident!("{}", branch_fn);
                        quote! { #branch_fn() }
                    }
                    None => self.strategy_of(&variant.ty),
                };
                let wrap = if variant.boxed { quote! { |value| model::#ident::#variant_ident(Box::new(value)) } } else { quote! { model::#ident::#variant_ident } };
                quote! { support::json_of(#strategy.prop_map(#wrap).boxed()) }
            }
        }
    }

    /// The broken strategies of a body as data: its sites, the valid bases they build on (each
    /// written once, named by index), and one recipe row per site, which
    /// `support::broken_sites` turns into strategies.
    fn emit_broken(&self, body: &BodyStrategy) -> TokenStream {
        let sites = &body.sites;
        let name = &body.type_name;
        let mut bases: Vec<SiteBase> = Vec::new();
        let mut index_of = |base: &SiteBase| -> Literal {
            let index = match bases.iter().position(|b| b == base) {
                Some(index) => index,
                None => {
                    bases.push(base.clone());
                    bases.len() - 1
                }
            };
            count(index)
        };
        let recipes: Vec<TokenStream> = sites
            .iter()
            .map(|site| {
                let steps = site.steps.iter().map(|step| match step {
                    SiteStep::Member(base, member) => {
                        let base = index_of(base);
                        quote! { Step::Member(#base, #member) }
                    }
                    SiteStep::FirstItem(base) => {
                        let base = index_of(base);
                        quote! { Step::FirstItem(#base) }
                    }
                    SiteStep::Entry(base, key, max) => {
                        let (base, max) = (index_of(base), usize_option(*max));
                        quote! { Step::Entry(#base, #key, #max) }
                    }
                });
                let steps: Vec<TokenStream> = steps.collect();
                let leaf = self.leaf_tokens(&site.leaf, &mut index_of);
                quote! { [#(#steps),*] #leaf }
            })
            .collect();
        let base_values: Vec<TokenStream> = bases.iter().map(|base| self.base_json(base)).collect();
        let literals = sites.iter().map(|site| {
            let (pointer, rule, typed_rejects) = (&site.pointer, site.rule, site.typed_rejects);
            quote! { support::Site::new(#pointer, #rule, #typed_rejects) }
        });
        let sites_const = format_ident!("{}", body.sites_const);
        let broken_fn = format_ident!("{}", body.broken_fn);
        let const_doc = format!(" Every constraint site of `{name}`, in document order.");
        let fn_doc = format!(" `{name}` bodies with exactly one constraint broken: one strategy per site of [`{sites_const}`].");
        quote! {
            #[doc = #const_doc]
            pub const #sites_const: &[support::Site] = &[#(#literals),*];

            #[doc = #fn_doc]
            pub fn #broken_fn() -> Vec<(support::Site, BoxedStrategy<support::Broken>)> {
                let bases = [#(#base_values),*];
                support::broken_table!(#sites_const, &bases; #(#recipes);*)
            }
        }
    }

    /// A leaf as a `support::Bad` expression; bases are named by their index.
    fn leaf_tokens(&self, leaf: &SiteLeaf, index_of: &mut impl FnMut(&SiteBase) -> Literal) -> TokenStream {
        match leaf {
            SiteLeaf::Missing(base, member) => {
                let base = index_of(base);
                quote! { Bad::Missing(#base, #member) }
            }
            SiteLeaf::WrongType(expected) => quote! { Bad::WrongType(#expected) },
            SiteLeaf::NotListed(known) => quote! { Bad::NotListed(&[#(#known),*]) },
            SiteLeaf::NotMatching { pattern, min, max } => {
                let (min, max) = (count(*min), usize_option(*max));
                quote! { Bad::NotMatching(#pattern, #min, #max) }
            }
            SiteLeaf::ShorterThan(min) => {
                let min = count(*min);
                quote! { Bad::ShorterThan(#min) }
            }
            SiteLeaf::LongerThan(max) => {
                let max = count(*max);
                quote! { Bad::LongerThan(#max) }
            }
            SiteLeaf::IntBelow { limit, exclusive, floor } => {
                let (limit, floor) = (int_tokens(*limit, "i64"), int_tokens(*floor, "i64"));
                quote! { Bad::IntBelow(#limit, #exclusive, #floor) }
            }
            SiteLeaf::IntAbove { limit, exclusive, ceiling } => {
                let (limit, ceiling) = (int_tokens(*limit, "i64"), int_tokens(*ceiling, "i64"));
                quote! { Bad::IntAbove(#limit, #exclusive, #ceiling) }
            }
            SiteLeaf::FloatBelow { limit, exclusive } => {
                let limit = float_tokens(*limit);
                quote! { Bad::FloatBelow(#limit, #exclusive) }
            }
            SiteLeaf::FloatAbove { limit, exclusive } => {
                let limit = float_tokens(*limit);
                quote! { Bad::FloatAbove(#limit, #exclusive) }
            }
            SiteLeaf::NotADateTime => quote! { Bad::NotADateTime },
            SiteLeaf::ArrayOf(base, min, max) => {
                let (base, min, max) = (index_of(base), count(*min), count(*max));
                quote! { Bad::ArrayOf(#base, #min, #max) }
            }
            SiteLeaf::ObjectOf(base, min, max) => {
                let (base, min, max) = (index_of(base), count(*min), count(*max));
                quote! { Bad::ObjectOf(#base, #min, #max) }
            }
            SiteLeaf::NotOneBranch(first, second) => {
                let (first, second) = (index_of(first), index_of(second));
                quote! { Bad::NotOneBranch(#first, #second) }
            }
        }
    }

    fn emit_body_row(&self, body: &BodyStrategy) -> TokenStream {
        let name = &body.type_name;
        let ident = format_ident!("{}", name);
        let function = self.fn_ident(name);
        let operations = &body.operations;
        let origin = &self.api.types[name].origin;
        let sites_const = format_ident!("{}", body.sites_const);
        let broken_fn = format_ident!("{}", body.broken_fn);
        quote! {
            support::RequestBody {
                type_name: #name,
                operations: &[#(#operations),*],
                schema_pointer: #origin,
                sites: #sites_const,
                valid: || support::json_of(#function()),
                broken: #broken_fn,
                roundtrip: support::roundtrip::<model::#ident>,
            },
        }
    }
}

/// Nests (strategy, binding) pairs into tuples of at most ten, so any number of fields fits
/// proptest's tuple strategies; returns the strategy tuple and the matching pattern.
fn tuple_tree(items: Vec<(TokenStream, TokenStream)>) -> (TokenStream, TokenStream) {
    const WIDTH: usize = 10;
    if items.len() <= WIDTH {
        let (strategies, patterns): (Vec<TokenStream>, Vec<TokenStream>) = items.into_iter().unzip();
        return (quote! { (#(#strategies,)*) }, quote! { (#(#patterns,)*) });
    }
    let chunks: Vec<(TokenStream, TokenStream)> = items.chunks(WIDTH).map(|chunk| tuple_tree(chunk.to_vec())).collect();
    tuple_tree(chunks)
}
