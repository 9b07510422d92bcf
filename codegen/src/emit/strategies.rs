//! Emit stage for the proptest strategies of one API (the generated crate's `proptest` feature).
//!
//! For every named type that a client-side operation sends (request bodies and parameters, of the
//! operations not served by the merchant) a strategy of valid values: `pub fn <type>()`. For every
//! request body, one strategy per constraint site that breaks that constraint and nothing else:
//! `broken_<body>()`, with the sites listed in `<BODY>_SITES`. `request_bodies()` and
//! `all_types()` are the tables a test walks. Everything is derived from the IR; what the spec
//! leaves open (alphabets, sizes without bounds, map keys, free JSON) is chosen in the
//! hand-written `strategy_support.rs.in`, which says so item by item.

use std::collections::{BTreeMap, BTreeSet};

use heck::ToShoutySnakeCase;
use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use crate::error::{Error, ErrorKind, Location};
use crate::ir::{Api, Field, NewtypeDef, Number, Presence, StructDef, TypeDef, TypeKind, TypeRef, UnionDef, UnionStrategy};
use crate::names::{Namespace, field_name};

/// Source of the strategy support module (spec-independent), emitted as `strategy_support.rs`.
pub const STRATEGY_SUPPORT_SOURCE: &str = include_str!("strategy_support.rs.in");

/// The key under which a broken map value is put.
const BROKEN_KEY: &str = "broken";

/// The strategy support module as tokens.
pub fn strategy_support_tokens() -> Result<TokenStream, Error> {
    STRATEGY_SUPPORT_SOURCE.parse().map_err(|err| {
        Error::new(
            Location { file: "strategy_support.rs.in".into(), line: None, column: None, pointer: String::new() },
            ErrorKind::Internal(format!("strategy support template does not tokenize: {err}")),
        )
    })
}

/// The `mod.rs` entries of the strategies, behind the crate's `proptest` feature: the support
/// and one module per API (hidden at the crate root), and `strategies`, which names them by
/// their API's module (`strategies::<module>`) next to the shared support items.
pub fn emit_strategies_mod_entries(modules: &[String]) -> TokenStream {
    if modules.is_empty() {
        return TokenStream::new();
    }
    let declared = modules.iter().map(|m| {
        let ident = format_ident!("{}_strategies", m);
        quote! { #[cfg(feature = "proptest")] #[doc(hidden)] pub mod #ident; }
    });
    let named = modules.iter().map(|m| {
        let ident = format_ident!("{}_strategies", m);
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
    emit_strategies_module_chunks(api, spec_display).collect()
}

/// [`emit_strategies_module`] as chunks made on demand (the head with the tables, then one per
/// type strategy and one per request body), for `format::format_chunks`.
pub fn emit_strategies_module_chunks<'a>(api: &'a Api, spec_display: &str) -> impl Iterator<Item = TokenStream> + 'a {
    let plan = std::rc::Rc::new(Plan::new(api));
    let doc = format!(
        " {} {} (from `{spec_display}`): proptest strategies of the request models (feature `proptest`).",
        api.title, api.version
    );
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
    let body_rows = plan.bodies.iter().map(|body| plan.emit_body_row(body));
    let type_rows = plan.types.iter().map(|name| {
        let function = plan.fn_ident(name);
        let ident = format_ident!("{}", name);
        let origin = &api.types[name].origin;
        quote! { #ident => #function, #origin }
    });
    let head = quote! {
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
    };
    let types = {
        let plan = plan.clone();
        (0..plan.types.len()).map(move |index| plan.emit_valid(&api.types[&plan.types[index]]))
    };
    let bodies = (0..plan.bodies.len()).map(move |index| plan.emit_broken(&plan.bodies[index]));
    std::iter::once(head).chain(types).chain(bodies)
}

/// A request body type and the operations that send it.
struct Body {
    type_name: String,
    operations: Vec<String>,
}

/// A valid JSON value a broken body is built on: a type's own strategy, or a union branch's
/// (union name, variant index), whose strategy fixes the fields that select the branch.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Base {
    Type(TypeRef),
    Branch(String, usize),
}

/// One step from a valid value down to the member a site sits in; the base is the valid value
/// the step edits.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// The member of that name.
    Member(Base, String),
    /// The first item of a list.
    FirstItem(Base),
    /// The entry `BROKEN_KEY` of a map, whose size is capped at the given `maxProperties`.
    Entry(Base, Option<usize>),
}

/// What breaks the rule at the end of the steps.
#[derive(Debug, Clone, PartialEq)]
enum Leaf {
    /// The member removed from a valid value of the base.
    Missing(Base, String),
    WrongType(&'static str),
    NotListed(Vec<String>),
    NotMatching { pattern: String, min: usize, max: Option<usize> },
    ShorterThan(usize),
    LongerThan(usize),
    IntBelow { limit: i64, exclusive: bool, floor: i64 },
    IntAbove { limit: i64, exclusive: bool, ceiling: i64 },
    FloatBelow { limit: f64, exclusive: bool },
    FloatAbove { limit: f64, exclusive: bool },
    NotADateTime,
    /// A list of items of the base, with a length outside the rule.
    ArrayOf(Base, usize, usize),
    /// A map of values of the base, with a size outside the rule.
    ObjectOf(Base, usize, usize),
    /// A value with the properties of two branches.
    NotOneBranch(Base, Base),
}

/// A constraint site found by walking a body type: the pointer below the walked value, the rule,
/// whether the generated types refuse it, and how a body breaking it is built (steps outermost
/// first, then the leaf). Plain data: emit writes it as one table row.
struct SiteGen {
    pointer: String,
    rule: &'static str,
    typed_rejects: bool,
    steps: Vec<Step>,
    leaf: Leaf,
}

impl SiteGen {
    fn leaf(rule: &'static str, leaf: Leaf) -> Self {
        SiteGen { pointer: String::new(), rule, typed_rejects: true, steps: Vec::new(), leaf }
    }

    /// This site, reached from an outer value through `step` whose pointer segment is `segment`.
    fn under(mut self, segment: &str, step: Step) -> Self {
        self.pointer = format!("{segment}{}", self.pointer);
        self.steps.insert(0, step);
        self
    }
}

/// How a struct field's value is fixed when the struct is a union branch.
#[derive(Clone)]
enum Forced {
    /// Always present (a property that selects the branch).
    Present,
    /// Always this discriminator tag.
    Tag(String),
}

/// What gets a strategy, and under which function name.
struct Plan<'a> {
    api: &'a Api,
    /// Types with a valid strategy, sorted.
    types: Vec<String>,
    /// Reachable types left out (cycles).
    skipped: BTreeSet<String>,
    /// Request bodies with broken strategies, in operation order.
    bodies: Vec<Body>,
    /// Type -> strategy function name.
    fn_names: BTreeMap<String, String>,
    /// (union, variant index) -> branch strategy function name, where the branch needs one.
    branch_fns: BTreeMap<(String, usize), String>,
}

fn named_refs(ty: &TypeRef, out: &mut Vec<String>) {
    match ty {
        TypeRef::Named(name) => out.push(name.clone()),
        TypeRef::Vec(inner) | TypeRef::Map(inner) => named_refs(inner, out),
        _ => {}
    }
}

/// The named types a type's values contain directly.
fn direct_refs(def: &TypeDef) -> Vec<String> {
    let mut out = Vec::new();
    match &def.kind {
        TypeKind::Struct(s) => {
            for field in &s.fields {
                named_refs(&field.ty, &mut out);
            }
        }
        TypeKind::Union(u) => {
            for variant in &u.variants {
                named_refs(&variant.ty, &mut out);
            }
        }
        TypeKind::Map(m) => named_refs(&m.value, &mut out),
        TypeKind::Newtype(n) => named_refs(&n.inner, &mut out),
        TypeKind::Alias(target) => named_refs(target, &mut out),
        TypeKind::Enum(_) => {}
    }
    out
}

/// JSON pointer segment for a member name.
fn segment(name: &str) -> String {
    format!("/{}", name.replace('~', "~0").replace('/', "~1"))
}

/// The pattern with its outer anchors removed, for proptest's generator (which has no anchors).
fn generator_pattern(pattern: &str) -> String {
    let rest = pattern.strip_prefix('^').unwrap_or(pattern);
    match rest.strip_suffix('$') {
        Some(inner) if inner.chars().rev().take_while(|c| *c == '\\').count() % 2 == 0 => inner.to_string(),
        _ => rest.to_string(),
    }
}

/// Follows aliases to a struct: its name and definition.
fn struct_of<'b>(api: &'b Api, ty: &TypeRef) -> Option<(&'b str, &'b StructDef)> {
    let TypeRef::Named(name) = ty else { return None };
    let def = api.types.get(name)?;
    match &def.kind {
        TypeKind::Struct(s) => Some((def.name.as_str(), s)),
        TypeKind::Alias(target) => struct_of(api, target),
        _ => None,
    }
}

fn count(value: usize) -> Literal {
    Literal::usize_unsuffixed(value)
}

fn usize_option(value: Option<usize>) -> TokenStream {
    match value {
        Some(v) => {
            let v = count(v);
            quote! { Some(#v) }
        }
        None => quote! { None },
    }
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

impl<'a> Plan<'a> {
    fn new(api: &'a Api) -> Self {
        let mut roots = Vec::new();
        let mut bodies: Vec<Body> = Vec::new();
        for operation in api.operations.iter().filter(|op| !op.merchant_served) {
            for param in &operation.params {
                named_refs(&param.ty, &mut roots);
            }
            // A raw body's bytes are the caller's; its schema has no strategies to offer.
            if let Some(body) = operation.body.as_ref().filter(|body| body.encoding != crate::ir::BodyEncoding::Raw) {
                named_refs(&body.ty, &mut roots);
                if let TypeRef::Named(name) = &body.ty {
                    match bodies.iter_mut().find(|b| &b.type_name == name) {
                        Some(existing) => existing.operations.push(operation.id.clone()),
                        None => bodies.push(Body { type_name: name.clone(), operations: vec![operation.id.clone()] }),
                    }
                }
            }
        }
        let reach = |start: &str| -> BTreeSet<String> {
            let mut seen = BTreeSet::new();
            let mut stack = vec![start.to_string()];
            while let Some(name) = stack.pop() {
                let Some(def) = api.types.get(&name) else { continue };
                for next in direct_refs(def) {
                    if seen.insert(next.clone()) {
                        stack.push(next);
                    }
                }
            }
            seen
        };
        let mut reachable = BTreeSet::new();
        for root in &roots {
            if api.types.contains_key(root) {
                reachable.insert(root.clone());
                reachable.extend(reach(root).into_iter().filter(|n| api.types.contains_key(n)));
            }
        }
        let reaches: BTreeMap<String, BTreeSet<String>> = reachable.iter().map(|n| (n.clone(), reach(n))).collect();
        let cyclic: BTreeSet<&String> = reaches.iter().filter(|(name, set)| set.contains(*name)).map(|(name, _)| name).collect();
        let skipped: BTreeSet<String> = reaches
            .iter()
            .filter(|(name, set)| cyclic.contains(name) || set.iter().any(|n| cyclic.contains(n)))
            .map(|(name, _)| name.clone())
            .collect();
        let types: Vec<String> = reachable.iter().filter(|n| !skipped.contains(*n)).cloned().collect();
        bodies.retain(|body| !skipped.contains(&body.type_name));

        let mut namespace = Namespace::with_reserved(&["request_bodies", "all_types"]);
        let mut fn_names = BTreeMap::new();
        for name in &types {
            fn_names.insert(name.clone(), namespace.claim(&field_name(name)));
        }
        let mut branch_fns = BTreeMap::new();
        for name in &types {
            let TypeKind::Union(union) = &api.types[name].kind else { continue };
            for (index, variant) in union.variants.iter().enumerate() {
                if Self::branch_forcing(api, union, index).is_some() {
                    let wanted = format!("{}_{}_branch", field_name(name), field_name(&variant.name));
                    branch_fns.insert((name.clone(), index), namespace.claim(&wanted));
                }
            }
        }
        for body in &bodies {
            namespace.claim(&format!("broken_{}", field_name(&body.type_name)));
        }
        Plan { api, types, skipped, bodies, fn_names, branch_fns }
    }

    /// The fields a union branch fixes (by wire name), when it fixes any.
    fn branch_forcing(api: &Api, union: &UnionDef, index: usize) -> Option<BTreeMap<String, Forced>> {
        let variant = &union.variants[index];
        let (_, def) = struct_of(api, &variant.ty)?;
        let mut forced = BTreeMap::new();
        match &union.strategy {
            UnionStrategy::ByProperty => {
                for field in &def.fields {
                    if variant.properties.contains(&field.wire_name) && field.presence != Presence::Required {
                        forced.insert(field.wire_name.clone(), Forced::Present);
                    }
                }
            }
            UnionStrategy::Discriminator { property } => {
                if let (Some(tag), true) = (variant.tags.first(), def.fields.iter().any(|f| &f.wire_name == property)) {
                    forced.insert(property.clone(), Forced::Tag(tag.clone()));
                }
            }
            UnionStrategy::Untagged => {}
        }
        (!forced.is_empty()).then_some(forced)
    }

    fn fn_ident(&self, type_name: &str) -> Ident {
        format_ident!("{}", self.fn_names[type_name])
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
                    let strategy = match self.branch_fns.get(&(name.clone(), index)) {
                        Some(branch_fn) => {
                            branch_fns.push(self.emit_branch(name, union, index, branch_fn));
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
    fn emit_branch(&self, union_name: &str, union: &UnionDef, index: usize, branch_fn: &str) -> TokenStream {
        let variant = &union.variants[index];
        let forced = Self::branch_forcing(self.api, union, index).unwrap_or_default();
        let (struct_name, def) = struct_of(self.api, &variant.ty).expect("forcing branches are structs");
        let ident = format_ident!("{}", struct_name);
        let function = format_ident!("{}", branch_fn);
        let body = self.struct_strategy(struct_name, def, &forced);
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

    /// The sites below a value of `ty`, whose valid JSON is `base`.
    fn value_sites(&self, ty: &TypeRef, base: &Base, tag_property: Option<&str>) -> Vec<SiteGen> {
        let wrong = |expected: &'static str| SiteGen::leaf("type", Leaf::WrongType(expected));
        match ty {
            TypeRef::Named(name) => {
                let def = &self.api.types[name];
                match &def.kind {
                    TypeKind::Struct(s) => self.struct_sites(s, base, tag_property),
                    TypeKind::Enum(e) => {
                        let known = e.variants.iter().map(|v| v.wire.clone()).collect();
                        vec![SiteGen { typed_rejects: false, ..SiteGen::leaf("enum", Leaf::NotListed(known)) }, wrong("string")]
                    }
                    TypeKind::Union(union) => self.union_sites(name, union),
                    TypeKind::Map(map) => {
                        let value = Base::Type(map.value.clone());
                        let mut sites = Vec::new();
                        if let Some(min) = map.min_properties.filter(|min| *min > 0) {
                            sites.push(SiteGen::leaf("minProperties", Leaf::ObjectOf(value.clone(), 0, min - 1)));
                        }
                        if let Some(max) = map.max_properties {
                            sites.push(SiteGen::leaf("maxProperties", Leaf::ObjectOf(value.clone(), max + 1, max + 1 + 2)));
                        }
                        if map.max_properties != Some(0) {
                            for site in self.value_sites(&map.value, &value, None) {
                                sites.push(site.under(&segment(BROKEN_KEY), Step::Entry(base.clone(), map.max_properties)));
                            }
                        }
                        sites
                    }
                    TypeKind::Newtype(newtype) => self.newtype_sites(newtype, base),
                    TypeKind::Alias(target) => self.value_sites(target, base, tag_property),
                }
            }
            TypeRef::String | TypeRef::Date | TypeRef::Uuid => vec![wrong("string")],
            TypeRef::DateTime => vec![wrong("string"), SiteGen::leaf("format", Leaf::NotADateTime)],
            TypeRef::Bool => vec![wrong("boolean")],
            TypeRef::I32 | TypeRef::I64 => vec![wrong("integer")],
            TypeRef::F32 | TypeRef::F64 => vec![wrong("number")],
            TypeRef::Json => Vec::new(),
            TypeRef::Vec(item) => {
                let mut sites = vec![wrong("array")];
                sites.extend(self.item_sites(item, base));
                sites
            }
            TypeRef::Map(value) => {
                let value_base = Base::Type((**value).clone());
                self.value_sites(value, &value_base, None)
                    .into_iter()
                    .map(|site| site.under(&segment(BROKEN_KEY), Step::Entry(base.clone(), None)))
                    .collect()
            }
        }
    }

    /// Sites of the first item of a list whose valid JSON is `base`.
    fn item_sites(&self, item: &TypeRef, base: &Base) -> Vec<SiteGen> {
        let item_base = Base::Type(item.clone());
        self.value_sites(item, &item_base, None).into_iter().map(|site| site.under("/0", Step::FirstItem(base.clone()))).collect()
    }

    fn newtype_sites(&self, newtype: &NewtypeDef, base: &Base) -> Vec<SiteGen> {
        let rules = &newtype.rules;
        let leaf = SiteGen::leaf;
        let mut sites = Vec::new();
        match &newtype.inner {
            TypeRef::String => {
                if let Some(pattern) = &rules.pattern {
                    let (min, max) = (rules.min_length.unwrap_or(0), rules.max_length);
                    sites.push(leaf("pattern", Leaf::NotMatching { pattern: pattern.clone(), min, max }));
                }
                if let Some(min) = rules.min_length.filter(|min| *min > 0) {
                    sites.push(leaf("minLength", Leaf::ShorterThan(min)));
                }
                if let Some(max) = rules.max_length {
                    sites.push(leaf("maxLength", Leaf::LongerThan(max)));
                }
                sites.push(leaf("type", Leaf::WrongType("string")));
            }
            TypeRef::I32 | TypeRef::I64 => {
                let (lowest, highest) = match newtype.inner {
                    TypeRef::I32 => (i64::from(i32::MIN), i64::from(i32::MAX)),
                    _ => (i64::MIN, i64::MAX),
                };
                let int = |number: Number| match number {
                    Number::Int(v) => v,
                    Number::Float(v) => v as i64,
                };
                if let Some((number, exclusive)) = rules.minimum {
                    let limit = int(number);
                    if limit > lowest || (exclusive && limit == lowest) {
                        sites.push(leaf("minimum", Leaf::IntBelow { limit, exclusive, floor: lowest }));
                    }
                }
                if let Some((number, exclusive)) = rules.maximum {
                    let limit = int(number);
                    if limit < highest || (exclusive && limit == highest) {
                        sites.push(leaf("maximum", Leaf::IntAbove { limit, exclusive, ceiling: highest }));
                    }
                }
                sites.push(leaf("type", Leaf::WrongType("integer")));
            }
            TypeRef::F32 | TypeRef::F64 => {
                let float = |number: Number| match number {
                    Number::Int(v) => v as f64,
                    Number::Float(v) => v,
                };
                if let Some((number, exclusive)) = rules.minimum {
                    sites.push(leaf("minimum", Leaf::FloatBelow { limit: float(number), exclusive }));
                }
                if let Some((number, exclusive)) = rules.maximum {
                    sites.push(leaf("maximum", Leaf::FloatAbove { limit: float(number), exclusive }));
                }
                sites.push(leaf("type", Leaf::WrongType("number")));
            }
            TypeRef::Vec(item) => {
                let item_base = Base::Type((**item).clone());
                if let Some(min) = rules.min_items.filter(|min| *min > 0) {
                    sites.push(leaf("minItems", Leaf::ArrayOf(item_base.clone(), 0, min - 1)));
                }
                if let Some(max) = rules.max_items {
                    sites.push(leaf("maxItems", Leaf::ArrayOf(item_base, max + 1, max + 1 + 2)));
                }
                sites.push(leaf("type", Leaf::WrongType("array")));
                if rules.max_items != Some(0) {
                    sites.extend(self.item_sites(item, base));
                }
            }
            other => sites.extend(self.value_sites(other, base, None)),
        }
        sites
    }

    fn struct_sites(&self, def: &StructDef, base: &Base, tag_property: Option<&str>) -> Vec<SiteGen> {
        let mut sites = Vec::new();
        for field in &def.fields {
            let wire = &field.wire_name;
            let pointer = segment(wire);
            if field.presence != Presence::Optional {
                sites.push(SiteGen { pointer: pointer.clone(), ..SiteGen::leaf("required", Leaf::Missing(base.clone(), wire.clone())) });
            }
            let field_base = Base::Type(field.ty.clone());
            for site in self.value_sites(&field.ty, &field_base, None) {
                // An unknown tag does not select a branch, so the generated union refuses it.
                let typed_rejects = site.typed_rejects || (tag_property == Some(wire.as_str()) && site.pointer.is_empty());
                sites.push(SiteGen { typed_rejects, ..site }.under(&pointer, Step::Member(base.clone(), wire.clone())));
            }
        }
        sites
    }

    fn union_sites(&self, name: &str, union: &UnionDef) -> Vec<SiteGen> {
        let branch = |index: usize| Base::Branch(name.to_string(), index);
        let mut sites = Vec::new();
        if union.strategy == UnionStrategy::ByProperty && union.variants.len() >= 2 {
            sites.push(SiteGen::leaf("oneOf", Leaf::NotOneBranch(branch(0), branch(1))));
        }
        // Inside an untagged union a broken branch may still read as another branch: no sites.
        if union.strategy == UnionStrategy::Untagged {
            return sites;
        }
        let tag_property = match &union.strategy {
            UnionStrategy::Discriminator { property } => Some(property.as_str()),
            _ => None,
        };
        let mut seen = BTreeSet::new();
        for (index, variant) in union.variants.iter().enumerate() {
            for site in self.value_sites(&variant.ty, &branch(index), tag_property) {
                // Branches may share members; the first branch that has one stands for it.
                if seen.insert((site.pointer.clone(), site.rule)) {
                    sites.push(site);
                }
            }
        }
        sites
    }

    /// The sites of a request body.
    fn body_sites(&self, body: &Body) -> Vec<SiteGen> {
        let ty = TypeRef::Named(body.type_name.clone());
        self.value_sites(&ty, &Base::Type(ty.clone()), None)
    }

    fn sites_const(&self, body: &Body) -> Ident {
        format_ident!("{}_SITES", body.type_name.to_shouty_snake_case())
    }

    fn broken_fn(&self, body: &Body) -> Ident {
        format_ident!("broken_{}", field_name(&body.type_name))
    }

    /// A `BoxedStrategy<serde_json::Value>` expression of a base's valid values.
    fn base_json(&self, base: &Base) -> TokenStream {
        match base {
            Base::Type(ty) => self.json_of(ty),
            Base::Branch(name, index) => {
                let TypeKind::Union(union) = &self.api.types[name].kind else { unreachable!("branch bases are union variants") };
                let ident = format_ident!("{}", name);
                let variant = &union.variants[*index];
                let variant_ident = format_ident!("{}", variant.name);
                let strategy = match self.branch_fns.get(&(name.clone(), *index)) {
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
    fn emit_broken(&self, body: &Body) -> TokenStream {
        let sites = self.body_sites(body);
        let name = &body.type_name;
        let mut bases: Vec<Base> = Vec::new();
        let mut index_of = |base: &Base| -> Literal {
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
                    Step::Member(base, member) => {
                        let base = index_of(base);
                        quote! { Step::Member(#base, #member) }
                    }
                    Step::FirstItem(base) => {
                        let base = index_of(base);
                        quote! { Step::FirstItem(#base) }
                    }
                    Step::Entry(base, max) => {
                        let (base, max) = (index_of(base), usize_option(*max));
                        quote! { Step::Entry(#base, #BROKEN_KEY, #max) }
                    }
                });
                let steps: Vec<TokenStream> = steps.collect();
                let leaf = self.leaf_tokens(&site.leaf, &mut index_of);
                quote! { (&[#(#steps),*], #leaf) }
            })
            .collect();
        let base_values: Vec<TokenStream> = bases.iter().map(|base| self.base_json(base)).collect();
        let literals = sites.iter().map(|site| {
            let (pointer, rule, typed_rejects) = (&site.pointer, site.rule, site.typed_rejects);
            quote! { support::Site::new(#pointer, #rule, #typed_rejects) }
        });
        let sites_const = self.sites_const(body);
        let broken_fn = self.broken_fn(body);
        let const_doc = format!(" Every constraint site of `{name}`, in document order.");
        let fn_doc = format!(" `{name}` bodies with exactly one constraint broken: one strategy per site of [`{sites_const}`].");
        quote! {
            #[doc = #const_doc]
            pub const #sites_const: &[support::Site] = &[#(#literals),*];

            #[doc = #fn_doc]
            pub fn #broken_fn() -> Vec<(support::Site, BoxedStrategy<support::Broken>)> {
                let bases = [#(#base_values),*];
                support::broken_sites(#sites_const, &bases, &[#(#recipes),*])
            }
        }
    }

    /// A leaf as a `support::Bad` expression; bases are named by their index.
    fn leaf_tokens(&self, leaf: &Leaf, index_of: &mut impl FnMut(&Base) -> Literal) -> TokenStream {
        match leaf {
            Leaf::Missing(base, member) => {
                let base = index_of(base);
                quote! { Bad::Missing(#base, #member) }
            }
            Leaf::WrongType(expected) => quote! { Bad::WrongType(#expected) },
            Leaf::NotListed(known) => quote! { Bad::NotListed(&[#(#known),*]) },
            Leaf::NotMatching { pattern, min, max } => {
                let (min, max) = (count(*min), usize_option(*max));
                quote! { Bad::NotMatching(#pattern, #min, #max) }
            }
            Leaf::ShorterThan(min) => {
                let min = count(*min);
                quote! { Bad::ShorterThan(#min) }
            }
            Leaf::LongerThan(max) => {
                let max = count(*max);
                quote! { Bad::LongerThan(#max) }
            }
            Leaf::IntBelow { limit, exclusive, floor } => {
                let (limit, floor) = (int_tokens(*limit, "i64"), int_tokens(*floor, "i64"));
                quote! { Bad::IntBelow(#limit, #exclusive, #floor) }
            }
            Leaf::IntAbove { limit, exclusive, ceiling } => {
                let (limit, ceiling) = (int_tokens(*limit, "i64"), int_tokens(*ceiling, "i64"));
                quote! { Bad::IntAbove(#limit, #exclusive, #ceiling) }
            }
            Leaf::FloatBelow { limit, exclusive } => {
                let limit = float_tokens(*limit);
                quote! { Bad::FloatBelow(#limit, #exclusive) }
            }
            Leaf::FloatAbove { limit, exclusive } => {
                let limit = float_tokens(*limit);
                quote! { Bad::FloatAbove(#limit, #exclusive) }
            }
            Leaf::NotADateTime => quote! { Bad::NotADateTime },
            Leaf::ArrayOf(base, min, max) => {
                let (base, min, max) = (index_of(base), count(*min), count(*max));
                quote! { Bad::ArrayOf(#base, #min, #max) }
            }
            Leaf::ObjectOf(base, min, max) => {
                let (base, min, max) = (index_of(base), count(*min), count(*max));
                quote! { Bad::ObjectOf(#base, #min, #max) }
            }
            Leaf::NotOneBranch(first, second) => {
                let (first, second) = (index_of(first), index_of(second));
                quote! { Bad::NotOneBranch(#first, #second) }
            }
        }
    }

    fn emit_body_row(&self, body: &Body) -> TokenStream {
        let name = &body.type_name;
        let ident = format_ident!("{}", name);
        let function = self.fn_ident(name);
        let operations = &body.operations;
        let origin = &self.api.types[name].origin;
        let sites_const = self.sites_const(body);
        let broken_fn = self.broken_fn(body);
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
