//! The strategy plan (`ir::StrategyPlan`): which types get a proptest strategy and under which
//! names, which union branches need their own, and every constraint site of every request body
//! with how a body breaking it is built. Decided here, after every type and operation exists, so
//! `emit/strategies.rs` only translates.
//!
//! Roots are the named types that client-side operations send (parameters and non-raw bodies);
//! everything they reach gets a strategy, except types on a cycle (through lists and maps too,
//! since strategies call each other eagerly) and the types reaching one.

use std::collections::{BTreeMap, BTreeSet};

use crate::ir::{
    Api, BodyEncoding, BodyStrategy, BranchStrategy, Forced, NewtypeDef, Number, Presence, SiteBase, SiteLeaf, SitePlan, SiteStep, StrategyPlan,
    StructDef, TypeDef, TypeKind, TypeRef, UnionDef, UnionStrategy,
};
use crate::names::{Namespace, const_name, field_name};

/// The key under which a broken map value is put.
const BROKEN_KEY: &str = "broken";

/// Function names the strategies module itself defines.
const RESERVED_FUNCTIONS: &[&str] = &["request_bodies", "all_types"];

/// The strategy plan of a lowered API.
pub fn plan(api: &Api) -> StrategyPlan {
    let mut roots = Vec::new();
    let mut bodies: Vec<(String, Vec<String>)> = Vec::new();
    for operation in api.operations.iter().filter(|op| !op.merchant_served) {
        for param in &operation.params {
            named_refs(&param.ty, &mut roots);
        }
        // A raw body's bytes are the caller's; its schema has no strategies to offer.
        if let Some(body) = operation.body.as_ref().filter(|body| body.encoding != BodyEncoding::Raw) {
            named_refs(&body.ty, &mut roots);
            if let TypeRef::Named(name) = &body.ty {
                match bodies.iter_mut().find(|(type_name, _)| type_name == name) {
                    Some((_, operations)) => operations.push(operation.id.clone()),
                    None => bodies.push((name.clone(), vec![operation.id.clone()])),
                }
            }
        }
    }
    let mut reachable = BTreeSet::new();
    let mut stack: Vec<String> = roots.into_iter().filter(|name| api.types.contains_key(name)).collect();
    while let Some(name) = stack.pop() {
        if reachable.insert(name.clone()) {
            stack.extend(direct_refs(&api.types[&name]).into_iter().filter(|next| api.types.contains_key(next)));
        }
    }
    let cyclic = super::cycles::on_or_reaching_cycle(&api.types, &direct_refs);
    let skipped: BTreeSet<String> = reachable.iter().filter(|name| cyclic.contains(*name)).cloned().collect();
    let types: Vec<String> = reachable.iter().filter(|name| !skipped.contains(*name)).cloned().collect();
    bodies.retain(|(name, _)| !skipped.contains(name));

    let mut namespace = Namespace::with_reserved(RESERVED_FUNCTIONS);
    let fn_names: BTreeMap<String, String> = types.iter().map(|name| (name.clone(), namespace.claim(&field_name(name)))).collect();
    // A repeated type's strategy keeps its old name too (`vipps_system_name2`).
    let repeated = api
        .repeated
        .iter()
        .filter_map(|repeat| fn_names.get(&repeat.same_as).map(|same_as| (namespace.claim(&field_name(&repeat.name)), same_as.clone())))
        .collect();
    let mut branches = BTreeMap::new();
    for name in &types {
        let TypeKind::Union(union) = &api.types[name].kind else { continue };
        for (index, variant) in union.variants.iter().enumerate() {
            if let Some((struct_name, forced)) = branch_forcing(api, union, index) {
                let fn_name = namespace.claim(&format!("{}_{}_branch", field_name(name), field_name(&variant.name)));
                branches.insert((name.clone(), index), BranchStrategy { fn_name, struct_name, forced });
            }
        }
    }
    let walker = Walker { api };
    let bodies = bodies
        .into_iter()
        .map(|(type_name, operations)| {
            let broken_fn = namespace.claim(&format!("broken_{}", field_name(&type_name)));
            let ty = TypeRef::Named(type_name.clone());
            let sites = walker.value_sites(&ty, &SiteBase::Type(ty.clone()), None);
            BodyStrategy { sites_const: format!("{}_SITES", const_name(&type_name)), broken_fn, type_name, operations, sites }
        })
        .collect();
    StrategyPlan { types, skipped, fn_names, repeated, branches, bodies }
}

fn named_refs(ty: &TypeRef, out: &mut Vec<String>) {
    match ty {
        TypeRef::Named(name) => out.push(name.clone()),
        TypeRef::Vec(inner) | TypeRef::Map(inner) => named_refs(inner, out),
        _ => {}
    }
}

/// The named types a type's values contain, through lists and maps too.
fn direct_refs(def: &TypeDef) -> Vec<String> {
    let mut out = Vec::new();
    match &def.kind {
        TypeKind::Struct(s) => s.fields.iter().for_each(|field| named_refs(&field.ty, &mut out)),
        TypeKind::Union(u) => u.variants.iter().for_each(|variant| named_refs(&variant.ty, &mut out)),
        TypeKind::Map(m) => named_refs(&m.value, &mut out),
        TypeKind::Newtype(n) => named_refs(&n.inner, &mut out),
        TypeKind::Alias(target) => named_refs(target, &mut out),
        TypeKind::Enum(_) => {}
    }
    out
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

/// The struct of a union branch and the fields it fixes (by wire name), when it fixes any.
fn branch_forcing(api: &Api, union: &UnionDef, index: usize) -> Option<(String, BTreeMap<String, Forced>)> {
    let variant = &union.variants[index];
    let (struct_name, def) = struct_of(api, &variant.ty)?;
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
    (!forced.is_empty()).then(|| (struct_name.to_string(), forced))
}

/// JSON pointer segment for a member name.
fn segment(name: &str) -> String {
    format!("/{}", name.replace('~', "~0").replace('/', "~1"))
}

fn leaf(rule: &'static str, leaf: SiteLeaf) -> SitePlan {
    SitePlan { pointer: String::new(), rule, typed_rejects: true, steps: Vec::new(), leaf }
}

/// `site`, reached from an outer value through `step` whose pointer segment is `segment`.
fn under(mut site: SitePlan, segment: &str, step: SiteStep) -> SitePlan {
    site.pointer = format!("{segment}{}", site.pointer);
    site.steps.insert(0, step);
    site
}

/// Walks a body type for its constraint sites.
struct Walker<'a> {
    api: &'a Api,
}

impl Walker<'_> {
    /// The sites below a value of `ty`, whose valid JSON is `base`.
    fn value_sites(&self, ty: &TypeRef, base: &SiteBase, tag_property: Option<&str>) -> Vec<SitePlan> {
        let wrong = |expected: &'static str| leaf("type", SiteLeaf::WrongType(expected));
        match ty {
            TypeRef::Named(name) => {
                let def = &self.api.types[name];
                match &def.kind {
                    TypeKind::Struct(s) => self.struct_sites(s, base, tag_property),
                    TypeKind::Enum(e) => {
                        let known = e.variants.iter().map(|v| v.wire.clone()).collect();
                        vec![SitePlan { typed_rejects: false, ..leaf("enum", SiteLeaf::NotListed(known)) }, wrong("string")]
                    }
                    TypeKind::Union(union) => self.union_sites(name, union),
                    TypeKind::Map(map) => {
                        let value = SiteBase::Type(map.value.clone());
                        let mut sites = Vec::new();
                        if let Some(min) = map.min_properties.filter(|min| *min > 0) {
                            sites.push(leaf("minProperties", SiteLeaf::ObjectOf(value.clone(), 0, min - 1)));
                        }
                        if let Some(max) = map.max_properties {
                            sites.push(leaf("maxProperties", SiteLeaf::ObjectOf(value.clone(), max + 1, max + 1 + 2)));
                        }
                        if map.max_properties != Some(0) {
                            for site in self.value_sites(&map.value, &value, None) {
                                let step = SiteStep::Entry(base.clone(), BROKEN_KEY.to_string(), map.max_properties);
                                sites.push(under(site, &segment(BROKEN_KEY), step));
                            }
                        }
                        sites
                    }
                    TypeKind::Newtype(newtype) => self.newtype_sites(newtype, base),
                    TypeKind::Alias(target) => self.value_sites(target, base, tag_property),
                }
            }
            TypeRef::String | TypeRef::Date | TypeRef::Uuid => vec![wrong("string")],
            TypeRef::DateTime => vec![wrong("string"), leaf("format", SiteLeaf::NotADateTime)],
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
                let value_base = SiteBase::Type((**value).clone());
                self.value_sites(value, &value_base, None)
                    .into_iter()
                    .map(|site| under(site, &segment(BROKEN_KEY), SiteStep::Entry(base.clone(), BROKEN_KEY.to_string(), None)))
                    .collect()
            }
        }
    }

    /// Sites of the first item of a list whose valid JSON is `base`.
    fn item_sites(&self, item: &TypeRef, base: &SiteBase) -> Vec<SitePlan> {
        let item_base = SiteBase::Type(item.clone());
        self.value_sites(item, &item_base, None).into_iter().map(|site| under(site, "/0", SiteStep::FirstItem(base.clone()))).collect()
    }

    fn newtype_sites(&self, newtype: &NewtypeDef, base: &SiteBase) -> Vec<SitePlan> {
        let rules = &newtype.rules;
        let mut sites = Vec::new();
        match &newtype.inner {
            TypeRef::String => {
                if let Some(pattern) = &rules.pattern {
                    let (min, max) = (rules.min_length.unwrap_or(0), rules.max_length);
                    sites.push(leaf("pattern", SiteLeaf::NotMatching { pattern: pattern.clone(), min, max }));
                }
                if let Some(min) = rules.min_length.filter(|min| *min > 0) {
                    sites.push(leaf("minLength", SiteLeaf::ShorterThan(min)));
                }
                if let Some(max) = rules.max_length {
                    sites.push(leaf("maxLength", SiteLeaf::LongerThan(max)));
                }
                sites.push(leaf("type", SiteLeaf::WrongType("string")));
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
                        sites.push(leaf("minimum", SiteLeaf::IntBelow { limit, exclusive, floor: lowest }));
                    }
                }
                if let Some((number, exclusive)) = rules.maximum {
                    let limit = int(number);
                    if limit < highest || (exclusive && limit == highest) {
                        sites.push(leaf("maximum", SiteLeaf::IntAbove { limit, exclusive, ceiling: highest }));
                    }
                }
                sites.push(leaf("type", SiteLeaf::WrongType("integer")));
            }
            TypeRef::F32 | TypeRef::F64 => {
                let float = |number: Number| match number {
                    Number::Int(v) => v as f64,
                    Number::Float(v) => v,
                };
                if let Some((number, exclusive)) = rules.minimum {
                    sites.push(leaf("minimum", SiteLeaf::FloatBelow { limit: float(number), exclusive }));
                }
                if let Some((number, exclusive)) = rules.maximum {
                    sites.push(leaf("maximum", SiteLeaf::FloatAbove { limit: float(number), exclusive }));
                }
                sites.push(leaf("type", SiteLeaf::WrongType("number")));
            }
            TypeRef::Vec(item) => {
                let item_base = SiteBase::Type((**item).clone());
                if let Some(min) = rules.min_items.filter(|min| *min > 0) {
                    sites.push(leaf("minItems", SiteLeaf::ArrayOf(item_base.clone(), 0, min - 1)));
                }
                if let Some(max) = rules.max_items {
                    sites.push(leaf("maxItems", SiteLeaf::ArrayOf(item_base, max + 1, max + 1 + 2)));
                }
                sites.push(leaf("type", SiteLeaf::WrongType("array")));
                if rules.max_items != Some(0) {
                    sites.extend(self.item_sites(item, base));
                }
            }
            other => sites.extend(self.value_sites(other, base, None)),
        }
        sites
    }

    fn struct_sites(&self, def: &StructDef, base: &SiteBase, tag_property: Option<&str>) -> Vec<SitePlan> {
        let mut sites = Vec::new();
        for field in &def.fields {
            let wire = &field.wire_name;
            let pointer = segment(wire);
            if field.presence != Presence::Optional {
                sites.push(SitePlan { pointer: pointer.clone(), ..leaf("required", SiteLeaf::Missing(base.clone(), wire.clone())) });
            }
            let field_base = SiteBase::Type(field.ty.clone());
            for site in self.value_sites(&field.ty, &field_base, None) {
                // An unknown tag does not select a branch, so the generated union refuses it.
                let typed_rejects = site.typed_rejects || (tag_property == Some(wire.as_str()) && site.pointer.is_empty());
                sites.push(under(SitePlan { typed_rejects, ..site }, &pointer, SiteStep::Member(base.clone(), wire.clone())));
            }
        }
        sites
    }

    fn union_sites(&self, name: &str, union: &UnionDef) -> Vec<SitePlan> {
        let branch = |index: usize| SiteBase::Branch(name.to_string(), index);
        let mut sites = Vec::new();
        if union.strategy == UnionStrategy::ByProperty && union.variants.len() >= 2 {
            sites.push(leaf("oneOf", SiteLeaf::NotOneBranch(branch(0), branch(1))));
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
}
