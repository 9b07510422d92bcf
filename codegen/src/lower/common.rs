//! Crate-level lowering, after every document of a crate is lowered: a type that several
//! documents define alike is one type of the crate, defined once in its common module and
//! re-exported by each models module (so `epayment::VippsSystemName` and
//! `webhooks::VippsSystemName` stay valid paths, and name the same type).
//!
//! What counts as alike, and why it is this narrow:
//! - the same Rust name, doc, deprecation and definition, and the same JSON property for its
//!   validation errors to name;
//! - not a component schema: the document names those itself, and a later document may change
//!   one without the other (the same reason repeats inside a module stay apart then);
//! - a leaf (a validated newtype over a primitive, or a string enum): it names no other type,
//!   so sharing it never drags in types whose names differ between modules.
//!
//! When only some of the modules agree, the largest group that agrees shares the type (the
//! first in settings order on a tie) and the others keep their own.

use std::collections::BTreeMap;

use crate::ir::{Api, CommonType, CommonTypes, TypeDef, TypeKind, TypeRef};
use crate::load::property_of_pointer;

/// Finds the crate's common types and marks them in each module's [`Api::common`].
pub fn share_common_types(apis: &mut [Api]) -> CommonTypes {
    let mut candidates: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, api) in apis.iter().enumerate() {
        for def in api.types.values().filter(|def| shareable(def)) {
            candidates.entry(def.name.as_str()).or_default().push(index);
        }
    }
    let mut chosen: Vec<(String, Vec<usize>)> = Vec::new();
    for (name, users) in candidates {
        let def_of = |index: usize| &apis[index].types[name];
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for index in users {
            match groups.iter_mut().find(|group| alike(def_of(group[0]), def_of(index))) {
                Some(group) => group.push(index),
                None => groups.push(vec![index]),
            }
        }
        // `max_by_key` keeps the last of equals; reversing keeps the first.
        if let Some(group) = groups.into_iter().rev().max_by_key(Vec::len).filter(|group| group.len() > 1) {
            chosen.push((name.to_string(), group));
        }
    }
    let mut common = CommonTypes::default();
    for (name, group) in chosen {
        let def = apis[group[0]].types[&name].clone();
        let modules = group.iter().map(|&index| apis[index].module.clone()).collect();
        for &index in &group {
            apis[index].common.insert(name.clone());
        }
        common.types.insert(name, CommonType { def, modules });
    }
    common
}

/// A leaf type made for an inline schema.
fn shareable(def: &TypeDef) -> bool {
    let component_schema = def.origin.strip_prefix("/components/schemas/").is_some_and(|rest| !rest.contains('/'));
    let leaf = match &def.kind {
        TypeKind::Enum(_) => true,
        TypeKind::Newtype(newtype) => names_no_type(&newtype.inner),
        _ => false,
    };
    !component_schema && leaf
}

fn names_no_type(ty: &TypeRef) -> bool {
    match ty {
        TypeRef::Named(_) => false,
        TypeRef::Vec(inner) | TypeRef::Map(inner) => names_no_type(inner),
        _ => true,
    }
}

/// The same type, wherever each was found.
fn alike(a: &TypeDef, b: &TypeDef) -> bool {
    a.doc == b.doc && a.deprecated == b.deprecated && a.kind == b.kind && property_of_pointer(&a.origin) == property_of_pointer(&b.origin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lower::lower_test_yaml;

    fn document(header_limit: u32, description: &str) -> String {
        format!(
            "openapi: 3.0.3\ninfo: {{ title: demo, version: '1' }}\npaths:\n  /a:\n    get:\n      operationId: getA\n      parameters:\n        - name: X-Tag\n          in: header\n          schema: {{ type: string, maxLength: {header_limit} }}\n        - name: mode\n          in: query\n          schema: {{ type: string, enum: [fast, slow] }}\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {{ $ref: '#/components/schemas/Code' }}\ncomponents:\n  schemas:\n    Code:\n      type: string\n      description: {description}\n      maxLength: 4\n"
        )
    }

    fn apis(documents: &[String]) -> Vec<Api> {
        documents
            .iter()
            .enumerate()
            .map(|(index, yaml)| {
                let mut api = lower_test_yaml(yaml);
                api.module = format!("m{index}");
                api
            })
            .collect()
    }

    #[test]
    fn leaf_types_alike_in_two_documents_are_one_but_component_schemas_stay_apart() {
        let mut apis = apis(&[document(30, "a code"), document(30, "a code")]);
        assert!(apis[0].types.contains_key("Code"), "the component schema is lowered: {:?}", apis[0].types.keys());
        let common = share_common_types(&mut apis);
        assert_eq!(common.types.keys().collect::<Vec<_>>(), ["Mode", "XTag"]);
        assert_eq!(common.types["XTag"].modules, ["m0", "m1"]);
        assert_eq!(common.types["XTag"].def, apis[0].types["XTag"]);
        for api in &apis {
            assert_eq!(api.common.iter().collect::<Vec<_>>(), ["Mode", "XTag"], "{}", api.module);
        }
    }

    #[test]
    fn the_largest_group_that_agrees_shares_and_the_rest_keep_their_own() {
        let mut apis = apis(&[document(40, "a"), document(30, "a"), document(30, "a")]);
        let common = share_common_types(&mut apis);
        assert_eq!(common.types["XTag"].modules, ["m1", "m2"]);
        assert_eq!(common.types["Mode"].modules, ["m0", "m1", "m2"]);
        assert!(!apis[0].common.contains("XTag"));
        assert!(apis[0].common.contains("Mode"));
        let mut lone = apis[..1].to_vec();
        assert_eq!(share_common_types(&mut lone), CommonTypes::default(), "one document shares nothing");
    }
}
