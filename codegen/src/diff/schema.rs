//! Comparison of two schemas: types, formats, nullability, enums, constraints, properties,
//! items, maps and unions, plus the Rust type the IR gives each place.

use serde_json::Value;

use super::change::Kind;
use super::walk::{Ctx, DOC_KEYS, Side, Walker, is_doc_key, show};
use crate::ir::{TypeKind, TypeRef};
use crate::load::pointer_join;

/// Keys a schema comparison understands; anything else that differs is `keyword-changed`.
const SCHEMA_KEYS: &[&str] = &[
    "type",
    "format",
    "nullable",
    "enum",
    "default",
    "deprecated",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "properties",
    "required",
    "additionalProperties",
    "allOf",
    "items",
    "oneOf",
    "anyOf",
    "discriminator",
];

/// Upper and lower bounds: (key, is an upper bound).
const BOUNDS: &[(&str, bool)] = &[
    ("minLength", false),
    ("maxLength", true),
    ("minimum", false),
    ("maximum", true),
    ("minItems", false),
    ("maxItems", true),
    ("minProperties", false),
    ("maxProperties", true),
];

/// The properties, required names and extra-member rule of an object, `allOf` parts merged.
#[derive(Debug, Default)]
struct ObjectView {
    /// (name, pointer of the property site, component the property came from through `allOf`).
    properties: Vec<(String, String, Option<String>)>,
    required: Vec<String>,
    additional: Additional,
    /// Components merged in through `allOf`.
    parts: Vec<String>,
}

#[derive(Debug, Default, Clone, PartialEq)]
enum Additional {
    #[default]
    Any,
    Forbidden,
    Schema(String),
}

impl Additional {
    fn describe(&self) -> &'static str {
        match self {
            Additional::Any => "any",
            Additional::Forbidden => "forbidden",
            Additional::Schema(_) => "a schema",
        }
    }
}

fn object_view(side: &Side<'_>, pointer: &str, from: Option<String>, depth: usize) -> ObjectView {
    let mut view = ObjectView::default();
    let Some(node) = side.node(pointer) else { return view };
    if depth > 32 {
        return view;
    }
    if let Some(Value::Array(parts)) = node.get("allOf") {
        for index in 0..parts.len() {
            let (real, component) = side.follow(&format!("{pointer}/allOf/{index}"));
            view.parts.extend(component.clone());
            let part = object_view(side, &real, component.or_else(|| from.clone()), depth + 1);
            view.parts.extend(part.parts);
            for property in part.properties {
                view.properties.retain(|(name, _, _)| name != &property.0);
                view.properties.push(property);
            }
            view.required.extend(part.required);
            if part.additional != Additional::Any {
                view.additional = part.additional;
            }
        }
    }
    if let Some(Value::Object(properties)) = node.get("properties") {
        for name in properties.keys() {
            view.properties.retain(|(n, _, _)| n != name);
            view.properties.push((name.clone(), pointer_join(&format!("{pointer}/properties"), name), from.clone()));
        }
    }
    if let Some(Value::Array(required)) = node.get("required") {
        view.required.extend(required.iter().filter_map(Value::as_str).map(str::to_string));
    }
    match node.get("additionalProperties") {
        Some(Value::Bool(false)) => view.additional = Additional::Forbidden,
        Some(Value::Object(_)) => view.additional = Additional::Schema(format!("{pointer}/additionalProperties")),
        _ => {}
    }
    view
}

/// The JSON type of a schema: `type`, or what its keywords imply.
fn effective_type(side: &Side<'_>, pointer: &str, depth: usize) -> Option<String> {
    let node = side.node(pointer)?;
    if let Some(kind) = node.get("type").and_then(Value::as_str) {
        return Some(kind.to_string());
    }
    if let Some(Value::Array(parts)) = node.get("allOf")
        && !parts.is_empty()
    {
        let (first, _) = side.follow(&format!("{pointer}/allOf/0"));
        let inner = if depth < 32 { effective_type(side, &first, depth + 1) } else { None };
        return inner.or_else(|| Some("object".into()));
    }
    if node.get("properties").is_some() || node.get("additionalProperties").is_some() {
        return Some("object".into());
    }
    if node.get("items").is_some() {
        return Some("array".into());
    }
    None
}

/// Whether a schema accepts null (`nullable`, or `null` in its enum).
fn nullable(side: &Side<'_>, pointer: &str) -> bool {
    let Some(node) = side.node(pointer) else { return false };
    node.get("nullable").and_then(Value::as_bool).unwrap_or(false)
        || node.get("enum").and_then(Value::as_array).is_some_and(|values| values.iter().any(Value::is_null))
}

/// A Rust type as users write it.
fn rust_text(ty: &TypeRef) -> String {
    match ty {
        TypeRef::Named(name) => name.clone(),
        TypeRef::String => "String".into(),
        TypeRef::Bool => "bool".into(),
        TypeRef::I32 => "i32".into(),
        TypeRef::I64 => "i64".into(),
        TypeRef::F32 => "f32".into(),
        TypeRef::F64 => "f64".into(),
        TypeRef::DateTime => "DateTime<Utc>".into(),
        TypeRef::Date => "NaiveDate".into(),
        TypeRef::Uuid => "Uuid".into(),
        TypeRef::Json => "serde_json::Value".into(),
        TypeRef::Vec(inner) => format!("Vec<{}>", rust_text(inner)),
        TypeRef::Map(inner) => format!("BTreeMap<String, {}>", rust_text(inner)),
    }
}

/// What a named type is, for telling whether it changed shape under the same name.
fn shape_of(side: &Side<'_>, ty: &TypeRef) -> Option<String> {
    let TypeRef::Named(name) = ty else { return None };
    let def = side.api.types.get(name)?;
    Some(match &def.kind {
        TypeKind::Struct(_) => "a struct".into(),
        TypeKind::Enum(_) => "an enum".into(),
        TypeKind::Union(_) => "a union".into(),
        TypeKind::Map(map) => format!("a map of {}", rust_text(&map.value)),
        TypeKind::Newtype(newtype) => format!("a checked {}", rust_text(&newtype.inner)),
        TypeKind::Alias(target) => format!("an alias of {}", rust_text(target)),
    })
}

/// The keyword of a union and its branches: (site, component the site refers to).
type Branches = (&'static str, Vec<(String, Option<String>)>);

fn number(value: Option<&Value>) -> Option<f64> {
    value.and_then(Value::as_f64)
}

impl Walker<'_> {
    /// Compares two schema sites. A `$ref` to the same component on both sides stops here (the
    /// component is compared under its own group); anything else is compared structurally.
    pub fn compare_schema(&mut self, ctx: &Ctx, old_site: &str, new_site: &str, subject: &str, property: bool) {
        let (old_real, old_component) = self.old.follow(old_site);
        let (new_real, new_component) = self.new.follow(new_site);
        let same_component = old_component.is_some() && old_component == new_component;
        let start = self.changes.len();
        let pair = (old_real.clone(), new_real.clone());
        if !same_component && !self.stack.contains(&pair) {
            self.stack.push(pair);
            self.compare_node(ctx, &old_real, &new_real, subject, property);
            self.stack.pop();
        }
        let type_changed = self.changes[start..].iter().any(|c| c.kind == Kind::TypeChanged && c.subject == subject);
        if type_changed {
            return;
        }
        let (Some(old_ty), Some(new_ty)) = (self.old.rust_type(old_site), self.new.rust_type(new_site)) else { return };
        if old_ty != new_ty {
            let detail = format!("{} -> {}", rust_text(old_ty), rust_text(new_ty));
            self.push(ctx, Kind::RustTypeChanged, subject, detail, Some(old_site), Some(new_site));
        } else if !same_component {
            let (a, b) = (shape_of(&self.old, old_ty), shape_of(&self.new, new_ty));
            if a != b {
                let show = |s: Option<String>| s.unwrap_or_else(|| "a plain type".into());
                let detail = format!("{}: {} -> {}", rust_text(new_ty), show(a), show(b));
                self.push(ctx, Kind::RustTypeChanged, subject, detail, Some(old_site), Some(new_site));
            }
        }
    }

    fn compare_node(&mut self, ctx: &Ctx, o: &str, n: &str, subject: &str, property: bool) {
        let (Some(old_node), Some(new_node)) = (self.old.node(o), self.new.node(n)) else { return };
        if !old_node.is_object() || !new_node.is_object() {
            if old_node != new_node {
                self.push(ctx, Kind::KeywordChanged, subject, format!("{} -> {}", show(old_node), show(new_node)), Some(o), Some(n));
            }
            return;
        }
        self.compare_doc_keys(ctx, o, n, subject, DOC_KEYS);
        self.compare_other_keys(ctx, o, n, subject);
        self.compare_deprecated(ctx, o, n, subject);
        if old_node.get("default") != new_node.get("default") {
            let detail = format!("default {} -> {}", show_opt(old_node.get("default")), show_opt(new_node.get("default")));
            let kind = match (old_node.get("default"), new_node.get("default")) {
                (None, Some(_)) => Kind::DefaultAdded,
                (Some(_), None) => Kind::DefaultRemoved,
                _ => Kind::DefaultChanged,
            };
            self.push(ctx, kind, subject, detail, Some(o), Some(n));
        }
        if !property {
            let (a, b) = (nullable(&self.old, o), nullable(&self.new, n));
            if a != b {
                let kind = if b { Kind::NullableAdded } else { Kind::NullableRemoved };
                let detail = if b { "may now be null" } else { "may no longer be null" };
                self.push(ctx, kind, subject, detail.into(), Some(o), Some(n));
            }
        }
        let (old_type, new_type) = (effective_type(&self.old, o, 0), effective_type(&self.new, n, 0));
        if old_type != new_type {
            let show_type = |t: Option<String>| t.unwrap_or_else(|| "(any)".into());
            let detail = format!("type {} -> {}", show_type(old_type), show_type(new_type));
            self.push(ctx, Kind::TypeChanged, subject, detail, Some(o), Some(n));
            return;
        }
        self.compare_format(ctx, o, n, subject, old_type.as_deref());
        self.compare_enum(ctx, o, n, subject);
        self.compare_constraints(ctx, o, n, subject);
        if old_type.as_deref() == Some("object") || old_node.get("properties").is_some() || new_node.get("properties").is_some() {
            self.compare_object(ctx, o, n, subject);
        }
        match (old_node.get("items").is_some(), new_node.get("items").is_some()) {
            (true, true) => self.compare_schema(ctx, &format!("{o}/items"), &format!("{n}/items"), &format!("{subject}[]"), false),
            (false, false) => {}
            _ => self.push(ctx, Kind::KeywordChanged, subject, "items given on one side only".into(), Some(o), Some(n)),
        }
        self.compare_union(ctx, o, n, subject);
        if old_node.get("discriminator") != new_node.get("discriminator") {
            let detail = format!("{} -> {}", show_opt(old_node.get("discriminator")), show_opt(new_node.get("discriminator")));
            self.push(ctx, Kind::DiscriminatorChanged, subject, detail, Some(o), Some(n));
        }
    }

    /// Keys no rule covers and that are not documentation: not understood, review by hand.
    fn compare_other_keys(&mut self, ctx: &Ctx, o: &str, n: &str, subject: &str) {
        let (old_node, new_node) = (self.old.node(o), self.new.node(n));
        let mut keys: Vec<String> = Vec::new();
        for map in [old_node, new_node].into_iter().flatten().filter_map(Value::as_object) {
            for key in map.keys() {
                if !SCHEMA_KEYS.contains(&key.as_str()) && !keys.contains(key) {
                    keys.push(key.clone());
                }
            }
        }
        for key in keys {
            let (a, b) = (old_node.and_then(|v| v.get(&key)), new_node.and_then(|v| v.get(&key)));
            if a == b || is_doc_key(&key) {
                continue;
            }
            let (op, np) = (pointer_join(o, &key), pointer_join(n, &key));
            let detail = format!("{key}: {} -> {}", show_opt(a), show_opt(b));
            self.push(ctx, Kind::KeywordChanged, subject, detail, Some(&op), Some(&np));
        }
    }

    fn compare_format(&mut self, ctx: &Ctx, o: &str, n: &str, subject: &str, kind: Option<&str>) {
        let format = |side: &Side<'_>, p: &str| side.node(p).and_then(|v| v.get("format")).and_then(Value::as_str).map(str::to_string);
        let (a, b) = (format(&self.old, o), format(&self.new, n));
        if a == b {
            return;
        }
        let widening = |from: &str, to: &str| {
            matches!((kind, from, to), (Some("integer"), "int32", "int64") | (Some("number"), "float", "double"))
        };
        let change = match (&a, &b) {
            (None, Some(_)) => Kind::FormatTightened,
            (Some(_), None) => Kind::FormatLoosened,
            (Some(a), Some(b)) if widening(a, b) => Kind::FormatLoosened,
            (Some(a), Some(b)) if widening(b, a) => Kind::FormatTightened,
            _ => Kind::FormatChanged,
        };
        let show_format = |f: &Option<String>| f.clone().unwrap_or_else(|| "(none)".into());
        let detail = format!("format {} -> {}", show_format(&a), show_format(&b));
        self.push(ctx, change, subject, detail, Some(&format!("{o}/format")), Some(&format!("{n}/format")));
    }

    fn compare_enum(&mut self, ctx: &Ctx, o: &str, n: &str, subject: &str) {
        let values = |side: &Side<'_>, p: &str| -> Option<Vec<Value>> {
            let list = side.node(p)?.get("enum")?.as_array()?;
            let values: Vec<Value> = list.iter().filter(|v| !v.is_null()).cloned().collect();
            (!values.is_empty()).then_some(values)
        };
        let (op, np) = (format!("{o}/enum"), format!("{n}/enum"));
        match (values(&self.old, o), values(&self.new, n)) {
            (None, None) => {}
            (None, Some(list)) => {
                let detail = format!("now one of {}", list.iter().map(show).collect::<Vec<_>>().join(", "));
                self.push(ctx, Kind::EnumRestricted, subject, detail, Some(o), Some(&np));
            }
            (Some(list), None) => {
                let detail = format!("no longer one of {}", list.iter().map(show).collect::<Vec<_>>().join(", "));
                self.push(ctx, Kind::EnumLifted, subject, detail, Some(&op), Some(n));
            }
            (Some(old_values), Some(new_values)) => {
                let index = |side: &Side<'_>, p: &str, value: &Value| {
                    side.node(p).and_then(|v| v.get("enum")).and_then(Value::as_array).and_then(|l| l.iter().position(|x| x == value))
                };
                for value in old_values.iter().filter(|v| !new_values.contains(v)) {
                    let at = index(&self.old, o, value).map(|i| format!("{op}/{i}")).unwrap_or_else(|| op.clone());
                    self.push(ctx, Kind::EnumValueRemoved, subject, format!("{} removed", show(value)), Some(&at), Some(&np));
                }
                for value in new_values.iter().filter(|v| !old_values.contains(v)) {
                    let at = index(&self.new, n, value).map(|i| format!("{np}/{i}")).unwrap_or_else(|| np.clone());
                    self.push(ctx, Kind::EnumValueAdded, subject, format!("{} added", show(value)), Some(&op), Some(&at));
                }
            }
        }
    }

    fn compare_constraints(&mut self, ctx: &Ctx, o: &str, n: &str, subject: &str) {
        let get = |side: &Side<'_>, p: &str, key: &str| side.node(p).and_then(|v| v.get(key)).cloned();
        for (key, upper) in BOUNDS {
            let (a, b) = (get(&self.old, o, key), get(&self.new, n, key));
            let (x, y) = (number(a.as_ref()), number(b.as_ref()));
            let kind = match (x, y) {
                (None, None) => continue,
                (Some(x), Some(y)) if x == y => continue,
                (None, Some(_)) => Kind::ConstraintTightened,
                (Some(_), None) => Kind::ConstraintLoosened,
                (Some(x), Some(y)) if (y < x) == *upper => Kind::ConstraintTightened,
                _ => Kind::ConstraintLoosened,
            };
            let detail = format!("{key} {} -> {}", show_opt(a.as_ref()), show_opt(b.as_ref()));
            self.push(ctx, kind, subject, detail, Some(&pointer_join(o, key)), Some(&pointer_join(n, key)));
        }
        for key in ["exclusiveMinimum", "exclusiveMaximum", "uniqueItems"] {
            let flag = |side: &Side<'_>, p: &str| side.node(p).and_then(|v| v.get(key)).and_then(Value::as_bool).unwrap_or(false);
            let (a, b) = (flag(&self.old, o), flag(&self.new, n));
            if a != b {
                let kind = if b { Kind::ConstraintTightened } else { Kind::ConstraintLoosened };
                self.push(ctx, kind, subject, format!("{key} {a} -> {b}"), Some(&pointer_join(o, key)), Some(&pointer_join(n, key)));
            }
        }
        for key in ["pattern", "multipleOf"] {
            let (a, b) = (get(&self.old, o, key), get(&self.new, n, key));
            let kind = match (&a, &b) {
                (a, b) if a == b => continue,
                (None, Some(_)) => Kind::ConstraintTightened,
                (Some(_), None) => Kind::ConstraintLoosened,
                _ => Kind::ConstraintChanged,
            };
            let detail = format!("{key} {} -> {}", show_opt(a.as_ref()), show_opt(b.as_ref()));
            self.push(ctx, kind, subject, detail, Some(&pointer_join(o, key)), Some(&pointer_join(n, key)));
        }
    }

    fn compare_object(&mut self, ctx: &Ctx, o: &str, n: &str, subject: &str) {
        let old_view = object_view(&self.old, o, None, 0);
        let new_view = object_view(&self.new, n, None, 0);
        for (name, old_pointer, old_from) in &old_view.properties {
            let property_subject = format!("{subject}.{name}");
            let was_required = old_view.required.contains(name);
            let Some((_, new_pointer, new_from)) = new_view.properties.iter().find(|(n, _, _)| n == name) else {
                if old_from.as_ref().is_some_and(|c| new_view.parts.contains(c)) {
                    continue; // the component both sides include reports it
                }
                let kind = if was_required { Kind::RequiredPropertyRemoved } else { Kind::OptionalPropertyRemoved };
                self.push(ctx, kind, &property_subject, "removed".into(), Some(old_pointer), Some(n));
                continue;
            };
            let is_required = new_view.required.contains(name);
            if was_required != is_required {
                let kind = if is_required { Kind::PropertyBecameRequired } else { Kind::PropertyBecameOptional };
                let detail = if is_required { "now required" } else { "now optional" };
                self.push(ctx, kind, &property_subject, detail.into(), Some(old_pointer), Some(new_pointer));
            }
            let (old_target, _) = self.old.follow(old_pointer);
            let (new_target, _) = self.new.follow(new_pointer);
            let (was_nullable, is_nullable) = (nullable(&self.old, &old_target), nullable(&self.new, &new_target));
            if was_nullable != is_nullable {
                let kind = match (was_required && is_required, is_nullable) {
                    (true, true) => Kind::PropertyBecameNullable,
                    (true, false) => Kind::PropertyBecameNonNullable,
                    (false, _) => Kind::OptionalPropertyNullabilityChanged,
                };
                let detail = if is_nullable { "may now be null" } else { "may no longer be null" };
                self.push(ctx, kind, &property_subject, detail.into(), Some(old_pointer), Some(new_pointer));
            }
            // A property both sides inherit from the same component is that component's business.
            if old_from.is_some() && old_from == new_from {
                continue;
            }
            self.compare_schema(ctx, old_pointer, new_pointer, &property_subject, true);
        }
        for (name, new_pointer, new_from) in &new_view.properties {
            if old_view.properties.iter().any(|(o, _, _)| o == name) || new_from.as_ref().is_some_and(|c| old_view.parts.contains(c)) {
                continue;
            }
            let kind = if new_view.required.contains(name) { Kind::PropertyAddedRequired } else { Kind::PropertyAddedOptional };
            self.push(ctx, kind, &format!("{subject}.{name}"), "added".into(), Some(o), Some(new_pointer));
        }
        let (a, b) = (&old_view.additional, &new_view.additional);
        match (a, b) {
            (Additional::Schema(x), Additional::Schema(y)) => self.compare_schema(ctx, x, y, &format!("{subject}{{}}"), false),
            _ if a == b => {}
            _ => {
                let tightened = matches!(
                    (a, b),
                    (Additional::Any, _) | (Additional::Schema(_), Additional::Forbidden)
                );
                let kind = if tightened { Kind::ConstraintTightened } else { Kind::ConstraintLoosened };
                let detail = format!("additionalProperties {} -> {}", a.describe(), b.describe());
                self.push(ctx, kind, subject, detail, Some(o), Some(n));
            }
        }
    }

    fn compare_union(&mut self, ctx: &Ctx, o: &str, n: &str, subject: &str) {
        let branches = |side: &Side<'_>, p: &str| -> Option<Branches> {
            let node = side.node(p)?;
            for keyword in ["oneOf", "anyOf"] {
                if let Some(Value::Array(list)) = node.get(keyword) {
                    let sites = (0..list.len())
                        .map(|i| {
                            let site = format!("{p}/{keyword}/{i}");
                            let (_, component) = side.follow(&site);
                            (site, component)
                        })
                        .collect();
                    return Some((keyword, sites));
                }
            }
            None
        };
        let (old_branches, new_branches) = (branches(&self.old, o), branches(&self.new, n));
        let (old_keyword, old_list) = old_branches.unwrap_or(("", Vec::new()));
        let (new_keyword, new_list) = new_branches.unwrap_or(("", Vec::new()));
        if old_list.is_empty() && new_list.is_empty() {
            return;
        }
        if !old_keyword.is_empty() && !new_keyword.is_empty() && old_keyword != new_keyword {
            self.push(ctx, Kind::KeywordChanged, subject, format!("{old_keyword} -> {new_keyword}"), Some(o), Some(n));
            return;
        }
        // Refs pair by component name, inline branches by their order among inline branches.
        let inline = |list: &[(String, Option<String>)]| list.iter().filter(|(_, c)| c.is_none()).map(|(s, _)| s.clone()).collect::<Vec<_>>();
        let (old_inline, new_inline) = (inline(&old_list), inline(&new_list));
        let name_of = |site: &str, component: &Option<String>, inline: &[String]| match component {
            Some(component) => component.clone(),
            None => format!("inline branch {}", inline.iter().position(|s| s == site).map_or(0, |i| i + 1)),
        };
        for (site, component) in &old_list {
            let partner = match component {
                Some(_) => new_list.iter().find(|(_, c)| c == component).map(|(s, _)| s.clone()),
                None => old_inline.iter().position(|s| s == site).and_then(|i| new_inline.get(i).cloned()),
            };
            let name = name_of(site, component, &old_inline);
            match partner {
                Some(partner) => self.compare_schema(ctx, site, &partner, &format!("{subject}|{name}"), false),
                None => {
                    self.push(ctx, Kind::UnionVariantRemoved, subject, format!("{name} removed"), Some(site), Some(n));
                }
            }
        }
        for (site, component) in &new_list {
            let paired = match component {
                Some(_) => old_list.iter().any(|(_, c)| c == component),
                None => new_inline.iter().position(|s| s == site).is_some_and(|i| i < old_inline.len()),
            };
            if !paired {
                let name = name_of(site, component, &new_inline);
                self.push(ctx, Kind::UnionVariantAdded, subject, format!("{name} added"), Some(o), Some(site));
            }
        }
    }
}

fn show_opt(value: Option<&Value>) -> String {
    value.map(show).unwrap_or_else(|| "(none)".into())
}
