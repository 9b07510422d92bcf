//! Lowering of schemas to named types and type uses.

use std::collections::BTreeSet;

use openapiv3::{
    AdditionalProperties, ArrayType, IntegerType, NumberType, ObjectType, ReferenceOr, Schema, SchemaKind, StringFormat,
    StringType, Type, VariantOrUnknownOrEmpty,
};

use super::Lowerer;
use super::pattern::ecma_to_rust_regex;
use crate::error::{Error, ErrorKind, Lint};
use crate::ir::{
    EnumDef, ExtraField, Field, MapDef, NewtypeDef, Number, Presence, RepeatedType, Rules, StructDef, TypeDef, TypeKind,
    TypeRef, UnionDef, UnionStrategy, UnionVariant, Variant,
};
use crate::load::{pointer_join, unescape_pointer_segment};
use crate::names::{self, Namespace, field_name, type_name};

/// `format` values of strings that carry a known meaning (others warn and stay `String`).
const PLAIN_STRING_FORMATS: &[&str] =
    &["uri", "uri-reference", "email", "hostname", "ipv4", "ipv6", "password", "byte", "binary", "url"];

/// What the name of an inline schema should be if it needs one.
#[derive(Debug, Clone)]
pub(crate) struct NameHint {
    /// Derived from the parent (`CreatePaymentRequestQrFormat`).
    pub derived: String,
    /// A name already claimed for this schema (components).
    pub claimed: Option<String>,
}

impl NameHint {
    pub fn derived(name: impl Into<String>) -> Self {
        Self { derived: name.into(), claimed: None }
    }
}

/// Converts a property's `ReferenceOr<Box<Schema>>` to the plain form.
pub(crate) fn unbox(item: &ReferenceOr<Box<Schema>>) -> ReferenceOr<Schema> {
    match item {
        ReferenceOr::Reference { reference } => ReferenceOr::Reference { reference: reference.clone() },
        ReferenceOr::Item(schema) => ReferenceOr::Item((**schema).clone()),
    }
}

/// What a schema becomes before it is given a name.
enum Shape {
    /// A plain type use.
    Plain(TypeRef),
    /// A named type with this kind.
    Named(TypeKind),
}

impl Lowerer<'_> {
    /// Lowers the schema at a `$ref` target once; later uses get the same type.
    pub(crate) fn lower_pointer(&mut self, target: &str) -> Result<TypeRef, Error> {
        if let Some(found) = self.by_pointer.get(target) {
            return Ok(found.clone());
        }
        let (schema, real) = self.read_at::<Schema>(target, target)?;
        if real != target {
            let found = self.lower_pointer(&real)?;
            self.by_pointer.insert(target.to_string(), found.clone());
            return Ok(found);
        }
        let claimed = self.component_names.get(target).cloned();
        let derived = claimed.clone().unwrap_or_else(|| {
            let last = target.rsplit('/').next().map(unescape_pointer_segment).unwrap_or_default();
            type_name(&last)
        });
        let hint = NameHint { derived, claimed };
        let found = self.lower_schema(&schema, target, &hint)?;
        self.by_pointer.insert(target.to_string(), found.clone());
        self.schema_index.insert(target.to_string(), found.clone());
        Ok(found)
    }

    /// Lowers a schema site (a ref or an inline schema).
    pub(crate) fn lower_ref_or(&mut self, item: &ReferenceOr<Schema>, pointer: &str, hint: &NameHint) -> Result<TypeRef, Error> {
        let found = match item {
            ReferenceOr::Reference { reference } => {
                let target = reference.trim_start_matches('#').to_string();
                self.lower_pointer(&target)?
            }
            // A site reached twice (a component parameter used by many paths) is one type.
            ReferenceOr::Item(_) if self.by_pointer.contains_key(pointer) => self.by_pointer[pointer].clone(),
            ReferenceOr::Item(schema) => {
                let found = self.lower_schema(schema, pointer, hint)?;
                self.by_pointer.insert(pointer.to_string(), found.clone());
                found
            }
        };
        self.schema_index.insert(pointer.to_string(), found.clone());
        Ok(found)
    }


    fn lower_schema(&mut self, schema: &Schema, pointer: &str, hint: &NameHint) -> Result<TypeRef, Error> {
        // Claim the name first so children (and cycles back to us) can use it.
        let needs_name = hint.claimed.is_some() || self.needs_named_type(schema);
        // `wanted` is the name asked for, before the namespace numbers it.
        let (name, wanted) = match (&hint.claimed, needs_name) {
            (Some(claimed), _) => (claimed.clone(), None),
            (None, true) => {
                // A repeat is known by its title when it has one, though it is named by its
                // place when the title is taken.
                let title_name = schema.schema_data.title.as_deref().map(type_name);
                let name = match &title_name {
                    Some(title) if !self.names.contains(title) => self.names.claim(title),
                    _ => self.names.claim(&hint.derived),
                };
                (name, Some(title_name.unwrap_or_else(|| hint.derived.clone())))
            }
            (None, false) => (hint.derived.clone(), None),
        };
        if needs_name {
            self.by_pointer.insert(pointer.to_string(), TypeRef::Named(name.clone()));
        }
        let shape = self.shape(schema, pointer, &name)?;
        let kind = match (shape, needs_name) {
            (Shape::Plain(plain), false) => return Ok(plain),
            (Shape::Plain(plain), true) => TypeKind::Alias(plain),
            (Shape::Named(kind), _) => kind,
        };
        let doc = schema.schema_data.description.as_ref().map(|d| d.trim().to_string()).filter(|d| !d.is_empty());
        if let Some(wanted) = wanted {
            // What makes two inline schemas one type (see `repeat_of`).
            // Fields name their own schema's place, which a repeat never shares; the property the
            // type's errors name is part of it.
            let mut shape = kind.clone();
            if let TypeKind::Struct(def) = &mut shape {
                def.fields.iter_mut().for_each(|field| field.origin.clear());
            }
            let key = format!("{:?}", (wanted, &doc, schema.schema_data.deprecated, shape, crate::load::property_of_pointer(pointer)));
            if let Some(same_as) = self.repeat_of(key, &name) {
                self.repeated.push(RepeatedType { name, same_as: same_as.clone(), origin: pointer.to_string() });
                self.by_pointer.insert(pointer.to_string(), TypeRef::Named(same_as.clone()));
                return Ok(TypeRef::Named(same_as));
            }
        }
        self.types.insert(
            name.clone(),
            TypeDef { name: name.clone(), origin: pointer.to_string(), doc, deprecated: schema.schema_data.deprecated, kind },
        );
        Ok(TypeRef::Named(name))
    }

    /// The type an inline schema repeats: one asked for under the same name with the same
    /// definition (a header parameter written out on every operation). The first such type is
    /// the one type; `name` stays taken so the repeat can be re-exported under it, and callers'
    /// paths keep compiling. Schemas that merely look alike under other names stay apart: they
    /// are other fields (`tipAmount` and `shippingAmount`), and their errors name them.
    /// The map keeps the key's sha256, not its text: a struct's text holds every field's doc.
    fn repeat_of(&mut self, key: String, name: &str) -> Option<String> {
        use sha2::Digest;
        match self.first_of_shape.entry(sha2::Sha256::digest(key).into()) {
            std::collections::hash_map::Entry::Occupied(first) => Some(first.get().clone()),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(name.to_string());
                None
            }
        }
    }

    /// Whether an inline schema becomes a named type (structs, enums, unions, constrained values).
    fn needs_named_type(&self, schema: &Schema) -> bool {
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(s)) => {
                !s.enumeration.is_empty() || s.pattern.is_some() || s.min_length.is_some() || s.max_length.is_some()
            }
            SchemaKind::Type(Type::Integer(i)) => i.minimum.is_some() || i.maximum.is_some(),
            SchemaKind::Type(Type::Number(n)) => n.minimum.is_some() || n.maximum.is_some(),
            SchemaKind::Type(Type::Boolean(_)) => false,
            SchemaKind::Type(Type::Array(a)) => a.min_items.is_some() || a.max_items.is_some(),
            SchemaKind::Type(Type::Object(o)) => {
                !o.properties.is_empty()
                    || o.min_properties.is_some()
                    || o.max_properties.is_some()
                    || matches!(o.additional_properties, Some(AdditionalProperties::Any(false)))
            }
            SchemaKind::OneOf { .. } | SchemaKind::AllOf { .. } | SchemaKind::AnyOf { .. } => true,
            SchemaKind::Any(any) => !any.one_of.is_empty() || !any.all_of.is_empty() || !any.any_of.is_empty(),
            SchemaKind::Not { .. } => true,
        }
    }

    fn shape(&mut self, schema: &Schema, pointer: &str, name: &str) -> Result<Shape, Error> {
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(string)) => self.string_shape(schema, string, pointer),
            SchemaKind::Type(Type::Integer(integer)) => Ok(self.integer_shape(integer, pointer)),
            SchemaKind::Type(Type::Number(number)) => Ok(self.number_shape(number, pointer)),
            SchemaKind::Type(Type::Boolean(_)) => Ok(Shape::Plain(TypeRef::Bool)),
            SchemaKind::Type(Type::Array(array)) => self.array_shape(array, pointer, name),
            SchemaKind::Type(Type::Object(object)) => self.object_shape(object, pointer, name),
            SchemaKind::OneOf { one_of } => self.union_shape(schema, one_of, pointer, "oneOf", name),
            SchemaKind::AnyOf { any_of } => self.union_shape(schema, any_of, pointer, "anyOf", name),
            SchemaKind::AllOf { all_of } => self.all_of_shape(all_of, pointer, name),
            SchemaKind::Not { .. } => {
                Err(self.error(pointer, ErrorKind::Unsupported("'not' schemas cannot be expressed as a Rust type".into())))
            }
            SchemaKind::Any(any) => {
                // openapiv3 reads `type: object` + `oneOf` as an untyped schema; the oneOf is still there.
                let typ_ok = matches!(any.typ.as_deref(), None | Some("object"));
                let only_composition = any.pattern.is_none()
                    && any.minimum.is_none()
                    && any.maximum.is_none()
                    && any.items.is_none()
                    && any.enumeration.is_empty()
                    && any.format.is_none()
                    && any.min_length.is_none()
                    && any.max_length.is_none()
                    && any.not.is_none();
                let composed = [!any.one_of.is_empty(), !any.all_of.is_empty(), !any.any_of.is_empty()];
                let composed_count = composed.iter().filter(|c| **c).count();
                if typ_ok && only_composition && composed_count == 1 && !any.all_of.is_empty() && !any.properties.is_empty() {
                    // `allOf` of base objects plus properties of its own: one object of all of them.
                    let own = ObjectType {
                        properties: any.properties.clone(),
                        required: any.required.clone(),
                        additional_properties: any.additional_properties.clone(),
                        min_properties: any.min_properties,
                        max_properties: any.max_properties,
                    };
                    let own = ReferenceOr::Item(Schema {
                        schema_data: Default::default(),
                        schema_kind: SchemaKind::Type(Type::Object(own)),
                    });
                    let mut parts = any.all_of.clone();
                    parts.push(own);
                    return self.all_of_shape(&parts, pointer, name);
                }
                if typ_ok && only_composition && composed_count == 1 && any.properties.is_empty() {
                    if !any.one_of.is_empty() {
                        return self.union_shape(schema, &any.one_of, pointer, "oneOf", name);
                    }
                    if !any.any_of.is_empty() {
                        return self.union_shape(schema, &any.any_of, pointer, "anyOf", name);
                    }
                    return self.all_of_shape(&any.all_of, pointer, name);
                }
                if composed_count == 0 && any.typ.is_none() && only_composition && any.properties.is_empty() {
                    return Ok(Shape::Plain(TypeRef::Json));
                }
                if composed_count == 0
                    && let Some(schema) = self.retyped(any, pointer)
                {
                    return self.shape(&schema, pointer, name);
                }
                Err(self.error(
                    pointer,
                    ErrorKind::Unsupported(format!(
                        "this combination of keywords (type {:?}{}{}) has no single Rust shape",
                        any.typ,
                        if any.properties.is_empty() { "" } else { ", properties" },
                        if composed_count > 0 { ", composition" } else { "" },
                    )),
                ))
            }
        }
    }

    fn string_shape(&mut self, schema: &Schema, string: &StringType, pointer: &str) -> Result<Shape, Error> {
        if !string.enumeration.is_empty() {
            let values: Vec<&String> = string.enumeration.iter().flatten().collect();
            if schema.schema_data.nullable && values.len() == string.enumeration.len() {
                self.warn(pointer, Lint::NullableEnumWithoutNull, "nullable enum does not list null; null is accepted as absent");
            }
            let mut variant_names = Namespace::default();
            let variants: Vec<Variant> = values
                .iter()
                .map(|value| Variant { name: variant_names.claim(&type_name(value)), wire: (*value).clone() })
                .collect();
            let unknown_variant = variant_names.claim("Unknown");
            let default = match &schema.schema_data.default {
                Some(serde_json::Value::String(value)) => variants.iter().position(|v| &v.wire == value),
                _ => None,
            };
            return Ok(Shape::Named(TypeKind::Enum(EnumDef { variants, unknown_variant, default })));
        }
        let base = match &string.format {
            VariantOrUnknownOrEmpty::Item(StringFormat::DateTime) => TypeRef::DateTime,
            VariantOrUnknownOrEmpty::Item(StringFormat::Date) => TypeRef::Date,
            VariantOrUnknownOrEmpty::Unknown(format) if format == "uuid" => TypeRef::Uuid,
            VariantOrUnknownOrEmpty::Unknown(format) if !PLAIN_STRING_FORMATS.contains(&format.as_str()) => {
                self.warn(
                    pointer,
                    Lint::UnknownFormat,
                    format!("format '{format}' is not a known format; the value stays a String"),
                );
                TypeRef::String
            }
            _ => TypeRef::String,
        };
        let constrained = string.pattern.is_some() || string.min_length.is_some() || string.max_length.is_some();
        if !constrained {
            return Ok(Shape::Plain(base));
        }
        if base != TypeRef::String {
            self.warn(pointer, Lint::Ignored, "length and pattern rules on a date or uuid are implied by the format and not checked again");
            return Ok(Shape::Plain(base));
        }
        let pattern = match &string.pattern {
            Some(pattern) => {
                let translated = ecma_to_rust_regex(pattern);
                match regex::Regex::new(&translated) {
                    Ok(_) => Some(translated),
                    Err(err) => {
                        // The value still has a Rust shape; only this rule cannot be checked.
                        let first_line = err.to_string().lines().last().unwrap_or_default().trim().to_string();
                        self.warn(
                            &format!("{pointer}/pattern"),
                            Lint::Ignored,
                            format!("pattern '{pattern}' does not compile ({first_line}); it is not checked"),
                        );
                        None
                    }
                }
            }
            None => None,
        };
        if pattern.is_none() && string.min_length.is_none() && string.max_length.is_none() {
            return Ok(Shape::Plain(base));
        }
        Ok(Shape::Named(TypeKind::Newtype(NewtypeDef {
            inner: TypeRef::String,
            rules: Rules { pattern, min_length: string.min_length, max_length: string.max_length, ..Rules::default() },
        })))
    }

    fn integer_shape(&mut self, integer: &IntegerType, pointer: &str) -> Shape {
        if integer.multiple_of.is_some() || !integer.enumeration.is_empty() {
            self.warn(pointer, Lint::Ignored, "multipleOf and integer enums are not checked by the generated types");
        }
        let base = match &integer.format {
            VariantOrUnknownOrEmpty::Item(openapiv3::IntegerFormat::Int32) => TypeRef::I32,
            VariantOrUnknownOrEmpty::Unknown(format) => {
                self.warn(pointer, Lint::UnknownFormat, format!("integer format '{format}' is not known; using i64"));
                TypeRef::I64
            }
            _ => TypeRef::I64,
        };
        if integer.minimum.is_none() && integer.maximum.is_none() {
            return Shape::Plain(base);
        }
        Shape::Named(TypeKind::Newtype(NewtypeDef {
            inner: base,
            rules: Rules {
                minimum: integer.minimum.map(|m| (Number::Int(m), integer.exclusive_minimum)),
                maximum: integer.maximum.map(|m| (Number::Int(m), integer.exclusive_maximum)),
                ..Rules::default()
            },
        }))
    }

    fn number_shape(&mut self, number: &NumberType, pointer: &str) -> Shape {
        if number.multiple_of.is_some() || !number.enumeration.is_empty() {
            self.warn(pointer, Lint::Ignored, "multipleOf and number enums are not checked by the generated types");
        }
        let base = match &number.format {
            VariantOrUnknownOrEmpty::Item(openapiv3::NumberFormat::Float) => TypeRef::F32,
            _ => TypeRef::F64,
        };
        if number.minimum.is_none() && number.maximum.is_none() {
            return Shape::Plain(base);
        }
        Shape::Named(TypeKind::Newtype(NewtypeDef {
            inner: base,
            rules: Rules {
                minimum: number.minimum.map(|m| (Number::Float(m), number.exclusive_minimum)),
                maximum: number.maximum.map(|m| (Number::Float(m), number.exclusive_maximum)),
                ..Rules::default()
            },
        }))
    }

    fn array_shape(&mut self, array: &ArrayType, pointer: &str, name: &str) -> Result<Shape, Error> {
        if array.unique_items {
            self.warn(pointer, Lint::Ignored, "uniqueItems is not checked by the generated types");
        }
        let item = match &array.items {
            Some(items) => {
                let hint = NameHint::derived(format!("{name}Item"));
                self.lower_ref_or(&unbox(items), &format!("{pointer}/items"), &hint)?
            }
            None => TypeRef::Json,
        };
        let list = TypeRef::Vec(Box::new(item));
        if array.min_items.is_none() && array.max_items.is_none() {
            return Ok(Shape::Plain(list));
        }
        Ok(Shape::Named(TypeKind::Newtype(NewtypeDef {
            inner: list,
            rules: Rules { min_items: array.min_items, max_items: array.max_items, ..Rules::default() },
        })))
    }

    fn object_shape(&mut self, object: &ObjectType, pointer: &str, name: &str) -> Result<Shape, Error> {
        let extra_value = match &object.additional_properties {
            Some(AdditionalProperties::Schema(schema)) => {
                let hint = NameHint::derived(format!("{name}Value"));
                Some(self.lower_ref_or(schema, &format!("{pointer}/additionalProperties"), &hint)?)
            }
            Some(AdditionalProperties::Any(_)) | None => None,
        };
        if object.properties.is_empty() {
            if matches!(object.additional_properties, Some(AdditionalProperties::Any(false))) {
                return Ok(Shape::Named(TypeKind::Struct(StructDef { fields: Vec::new(), extra: None })));
            }
            let value = extra_value.unwrap_or(TypeRef::Json);
            if object.min_properties.is_none() && object.max_properties.is_none() {
                return Ok(Shape::Plain(TypeRef::Map(Box::new(value))));
            }
            return Ok(Shape::Named(TypeKind::Map(MapDef {
                value,
                min_properties: object.min_properties,
                max_properties: object.max_properties,
            })));
        }
        if object.min_properties.is_some() || object.max_properties.is_some() {
            self.warn(pointer, Lint::Ignored, "minProperties/maxProperties on an object with fixed properties are not checked");
        }
        let mut field_names = Namespace::default();
        // Methods share one namespace per type; `new` is the constructor.
        let mut method_names = Namespace::with_reserved(&["new"]);
        let mut fields = Vec::new();
        for (wire_name, property) in &object.properties {
            let property = unbox(property);
            let property_pointer = pointer_join(&format!("{pointer}/properties"), wire_name);
            let hint = NameHint::derived(format!("{name}{}", type_name(wire_name)));
            let ty = self.lower_ref_or(&property, &property_pointer, &hint)?;
            let (target, _) = self.deref(&property, &property_pointer)?;
            let nullable = target.schema_data.nullable || self.declares_null(&target);
            let presence = match (object.required.contains(wire_name), nullable) {
                (true, false) => Presence::Required,
                (true, true) => Presence::RequiredNullable,
                (false, _) => Presence::Optional,
            };
            let (doc, default, deprecated) = match &property {
                ReferenceOr::Item(schema) => (
                    schema.schema_data.description.as_ref().map(|d| d.trim().to_string()).filter(|d| !d.is_empty()),
                    schema.schema_data.default.clone(),
                    schema.schema_data.deprecated,
                ),
                ReferenceOr::Reference { .. } => (None, target.schema_data.default.clone(), target.schema_data.deprecated),
            };
            fields.push(Field {
                name: field_names.claim(&field_name(wire_name)),
                wire_name: wire_name.clone(),
                ty,
                presence,
                boxed: false,
                doc,
                deprecated,
                default,
                origin: property_pointer,
                setter: method_names.claim(&names::setter_name(wire_name)),
                default_accessor: method_names.claim(&names::default_accessor_name(wire_name)),
                secret: self.settings.secret_properties.iter().any(|secret| secret.eq_ignore_ascii_case(wire_name)),
                uri: is_uri(&target),
            });
        }
        for (index, required) in object.required.iter().enumerate() {
            if !object.properties.contains_key(required) {
                self.warn(
                    &format!("{pointer}/required/{index}"),
                    Lint::RequiredWithoutProperty,
                    format!("'{required}' is listed in required but is not a property; ignored"),
                );
            }
        }
        let keeps_unknown = self.problem_schemas.contains(pointer);
        let extra = match (extra_value, keeps_unknown) {
            (Some(value), _) => Some(ExtraField { name: field_names.claim("extra"), value }),
            (None, true) => Some(ExtraField { name: field_names.claim("extra"), value: TypeRef::Json }),
            (None, false) => None,
        };
        Ok(Shape::Named(TypeKind::Struct(StructDef { fields, extra })))
    }

    /// An enum listing `null` makes its property nullable too.
    fn declares_null(&self, schema: &Schema) -> bool {
        matches!(&schema.schema_kind, SchemaKind::Type(Type::String(s)) if s.enumeration.iter().any(Option::is_none))
    }

    /// A schema as its author meant it when its keywords do not fit one type (openapiv3 then
    /// reads it untyped): `properties` without `type` is an object (`missing-type`), and
    /// keywords of another type (`minimum` on a string, `pattern` on an integer) are dropped
    /// (`ignored`). None when that still leaves no single type.
    fn retyped(&mut self, any: &openapiv3::AnySchema, pointer: &str) -> Option<Schema> {
        const STRING: &[&str] = &["pattern", "minLength", "maxLength"];
        const NUMBER: &[&str] = &["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"];
        const ARRAY: &[&str] = &["items", "minItems", "maxItems", "uniqueItems"];
        const OBJECT: &[&str] = &["properties", "required", "additionalProperties", "minProperties", "maxProperties"];
        let mut node = self.resolved.node(pointer)?.as_object()?.clone();
        let typ = match any.typ.as_deref() {
            Some(typ) => typ.to_string(),
            None if !any.properties.is_empty() => {
                self.warn(pointer, Lint::MissingType, "a schema with `properties` and no `type` is read as an object");
                node.insert("type".into(), serde_json::Value::String("object".into()));
                "object".to_string()
            }
            None => return None,
        };
        let applies: &[&str] = match typ.as_str() {
            "string" => STRING,
            "integer" | "number" => NUMBER,
            "array" => ARRAY,
            "object" => OBJECT,
            _ => return None,
        };
        for keyword in [STRING, NUMBER, ARRAY, OBJECT].concat() {
            if !applies.contains(&keyword) && node.remove(keyword).is_some() {
                self.warn(&pointer_join(pointer, keyword), Lint::Ignored, format!("`{keyword}` does not apply to a {typ}; ignored"));
            }
        }
        let schema: Schema = serde_json::from_value(serde_json::Value::Object(node)).ok()?;
        (!matches!(schema.schema_kind, SchemaKind::Any(_))).then_some(schema)
    }

    fn all_of_shape(&mut self, parts: &[ReferenceOr<Schema>], pointer: &str, name: &str) -> Result<Shape, Error> {
        // `allOf` of one part is how documents attach a description, `nullable` or a default to
        // a reference: the part's type, the siblings read where the property is.
        if let [part] = parts {
            let hint = NameHint::derived(name.to_string());
            return Ok(Shape::Plain(self.lower_ref_or(part, &format!("{pointer}/allOf/0"), &hint)?));
        }
        // Object parts merge into one object. A part that is not an object (a string, a union)
        // cannot also hold for an object, so it is read through: ignored, with a warning. With no
        // object part at all, the first part is the type and the others are ignored.
        let mut merged = ObjectType::default();
        let mut objects = 0;
        let mut others = Vec::new();
        let mut pending: Vec<(ReferenceOr<Schema>, String)> =
            parts.iter().enumerate().map(|(index, part)| (part.clone(), format!("{pointer}/allOf/{index}"))).collect();
        pending.reverse();
        let mut seen = 0;
        while let Some((part, part_pointer)) = pending.pop() {
            seen += 1;
            if seen > 256 {
                break; // a self-including allOf chain; what was merged stands
            }
            let (schema, at) = self.deref(&part, &part_pointer)?;
            let kind = match schema.schema_kind {
                // `properties` without `type`, or only `required`: an object part.
                SchemaKind::Any(any) if !any.properties.is_empty() || (!any.required.is_empty() && any.typ.is_none()) => {
                    match self.retyped(&any, &at).map(|s| s.schema_kind) {
                        Some(kind) => kind,
                        None => SchemaKind::Type(Type::Object(ObjectType { properties: any.properties, required: any.required, ..ObjectType::default() })),
                    }
                }
                kind => kind,
            };
            match kind {
                SchemaKind::Type(Type::Object(object)) => {
                    objects += 1;
                    merged.properties.extend(object.properties);
                    merged.required.extend(object.required);
                    if object.additional_properties.is_some() {
                        merged.additional_properties = object.additional_properties;
                    }
                }
                // A nested allOf: its parts are parts of this one.
                SchemaKind::AllOf { all_of } => {
                    for (index, inner) in all_of.into_iter().enumerate().rev() {
                        pending.push((inner, format!("{at}/allOf/{index}")));
                    }
                }
                _ => others.push((part, part_pointer)),
            }
        }
        if objects == 0 && others.is_empty() {
            self.warn(pointer, Lint::Ignored, "an allOf with no parts says nothing; read as any JSON".to_string());
            return Ok(Shape::Plain(TypeRef::Json));
        }
        if objects == 0 {
            let (first, first_pointer) = others.remove(0);
            for (_, part_pointer) in &others {
                self.warn(part_pointer, Lint::Ignored, format!("allOf part is not an object; the type is that of {first_pointer}, this part's constraints are not checked"));
            }
            let hint = NameHint::derived(name.to_string());
            return Ok(Shape::Plain(self.lower_ref_or(&first, &first_pointer, &hint)?));
        }
        for (_, part_pointer) in &others {
            self.warn(part_pointer, Lint::Ignored, "allOf part is not an object, so no object can also satisfy it; ignored, the object parts are merged".to_string());
        }
        self.object_shape(&merged, pointer, name)
    }

    fn union_shape(
        &mut self,
        schema: &Schema,
        branches: &[ReferenceOr<Schema>],
        pointer: &str,
        keyword: &str,
        name: &str,
    ) -> Result<Shape, Error> {
        let mut variant_names = Namespace::default();
        let mut variants = Vec::new();
        let mut property_sets = Vec::new();
        for (index, branch) in branches.iter().enumerate() {
            let branch_pointer = format!("{pointer}/{keyword}/{index}");
            let hint = NameHint::derived(format!("{name}Variant{}", index + 1));
            let ty = self.lower_ref_or(branch, &branch_pointer, &hint)?;
            let (branch_schema, _) = self.deref(branch, &branch_pointer)?;
            let properties: Vec<String> = match &branch_schema.schema_kind {
                SchemaKind::Type(Type::Object(object)) => object.properties.keys().cloned().collect(),
                _ => Vec::new(),
            };
            property_sets.push(properties.clone());
            let variant_name = match &ty {
                TypeRef::Named(named) => named.clone(),
                other => type_name(&format!("{other:?}")),
            };
            let tags = match branch {
                ReferenceOr::Reference { reference } => {
                    vec![reference.rsplit('/').next().map(unescape_pointer_segment).unwrap_or_default()]
                }
                ReferenceOr::Item(_) => Vec::new(),
            };
            variants.push(UnionVariant { name: variant_names.claim(&variant_name), ty, properties, tags, boxed: false });
        }
        let strategy = if let Some(discriminator) = &schema.schema_data.discriminator {
            if !discriminator.mapping.is_empty() {
                for variant in &mut variants {
                    variant.tags.clear();
                }
                for (tag, reference) in &discriminator.mapping {
                    let target = reference.trim_start_matches('#');
                    let index = branches.iter().position(|b| matches!(b, ReferenceOr::Reference { reference: r } if r.trim_start_matches('#') == target));
                    match index {
                        Some(index) => variants[index].tags.push(tag.clone()),
                        None => {
                            return Err(self.error(
                                &format!("{pointer}/discriminator/mapping"),
                                ErrorKind::UnknownRef(format!("discriminator value '{tag}' maps to '{reference}', which is not a branch")),
                            ));
                        }
                    }
                }
            }
            if let Some(untagged) = variants.iter().position(|v| v.tags.is_empty()) {
                return Err(self.error(
                    &format!("{pointer}/{keyword}/{untagged}"),
                    ErrorKind::Unsupported("an inline branch of a discriminated union needs a mapping entry".into()),
                ));
            }
            UnionStrategy::Discriminator { property: discriminator.property_name.clone() }
        } else if keyword == "oneOf" && disjoint(&property_sets) {
            UnionStrategy::ByProperty
        } else {
            self.warn(
                pointer,
                Lint::AmbiguousUnion,
                format!(
                    "{keyword} without a discriminator whose branches do not have disjoint property names; the first branch that parses wins"
                ),
            );
            UnionStrategy::Untagged
        };
        Ok(Shape::Named(TypeKind::Union(UnionDef { strategy, variants, constructors: Vec::new() })))
    }
}

/// True when every branch has properties and no two branches share a property name.
fn disjoint(sets: &[Vec<String>]) -> bool {
    let mut seen = BTreeSet::new();
    sets.len() > 1 && sets.iter().all(|set| !set.is_empty() && set.iter().all(|name| seen.insert(name.clone())))
}

/// Whether a schema is a string holding a URI.
fn is_uri(schema: &Schema) -> bool {
    match &schema.schema_kind {
        SchemaKind::Type(Type::String(string)) => {
            matches!(&string.format, VariantOrUnknownOrEmpty::Unknown(format) if matches!(format.as_str(), "uri" | "url" | "uri-reference"))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::{Api, TypeKind, TypeRef};
    use crate::lower::lower_test_yaml as lower;

    /// A header schema written out on three operations (twice alike, once with another rule),
    /// a nested object repeated under one name, and two properties alike under other names.
    const SPEC: &str = r#"
openapi: 3.0.3
info: { title: demo, version: '1' }
paths:
  /a:
    get:
      operationId: getA
      parameters:
        - { name: X-Tag, in: header, schema: { type: string, maxLength: 30 } }
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                tip: { type: integer, minimum: 0 }
                shipping: { type: integer, minimum: 0 }
                box: { title: Parcel, type: object, properties: { size: { type: string } } }
      responses: { '204': { description: ok } }
  /b:
    get:
      operationId: getB
      parameters:
        - { name: X-Tag, in: header, schema: { type: string, maxLength: 30 } }
      requestBody:
        content:
          application/json:
            schema:
              title: Body
              type: object
              properties:
                box: { title: Parcel, type: object, properties: { size: { type: string } } }
      responses: { '204': { description: ok } }
  /c:
    get:
      operationId: getC
      parameters:
        - { name: X-Tag, in: header, schema: { type: string, maxLength: 10 } }
      responses: { '204': { description: ok } }
"#;

    fn param_type(api: &Api, operation: &str) -> TypeRef {
        let op = api.operations.iter().find(|op| op.id == operation).expect("operation");
        op.params.iter().find(|p| p.wire_name == "X-Tag").expect("header").ty.clone()
    }

    #[test]
    fn a_repeated_inline_schema_is_the_first_type_and_keeps_its_name_as_a_re_export() {
        let api = lower(SPEC);
        assert_eq!(param_type(&api, "getA"), TypeRef::Named("XTag".into()));
        assert_eq!(param_type(&api, "getB"), TypeRef::Named("XTag".into()));
        // Another rule is another type, under the next free number.
        assert_eq!(param_type(&api, "getC"), TypeRef::Named("XTag3".into()));
        assert!(matches!(api.types["XTag3"].kind, TypeKind::Newtype(_)));
        let repeats: Vec<(&str, &str)> = api.repeated.iter().map(|r| (r.name.as_str(), r.same_as.as_str())).collect();
        // A titled object repeats under its title, though its second copy was named by its place.
        assert_eq!(repeats, [("BodyBox", "Parcel"), ("XTag2", "XTag")]);
        assert!(!api.types.contains_key("XTag2") && !api.types.contains_key("BodyBox"));
        assert_eq!(api.schema_index["/paths/~1b/get/parameters/0/schema"], TypeRef::Named("XTag".into()));
    }

    #[test]
    fn schemas_alike_under_other_names_stay_apart() {
        let api = lower(SPEC);
        let tip = api.types.keys().find(|k| k.ends_with("Tip")).expect("tip type");
        let shipping = api.types.keys().find(|k| k.ends_with("Shipping")).expect("shipping type");
        assert_ne!(tip, shipping);
        assert_eq!(api.types[tip].kind, api.types[shipping].kind);
        assert!(api.repeated.iter().all(|r| r.same_as != *tip && r.same_as != *shipping));
    }
}
