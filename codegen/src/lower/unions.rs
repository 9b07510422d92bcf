//! Shortcut constructors of union branches that hold one field: `Customer::phone_number(..)`
//! builds the branch whose struct has just `phoneNumber`. Decided after every type is lowered,
//! because a branch's struct may be lowered after its union.

use std::collections::BTreeMap;

use crate::ir::{BranchConstructor, Presence, TypeDef, TypeKind, TypeRef};

/// Fills `constructors` of every union. A branch qualifies when it is a plain (unboxed) struct
/// of exactly one field that is required or optional (not required-and-nullable) and keeps no
/// unknown members; a field name two branches share would be ambiguous, so neither gets one.
pub(super) fn add_branch_constructors(types: &mut BTreeMap<String, TypeDef>) {
    let unions: Vec<String> = types.iter().filter(|(_, def)| matches!(def.kind, TypeKind::Union(_))).map(|(name, _)| name.clone()).collect();
    for union_name in unions {
        let Some(TypeKind::Union(union)) = types.get(&union_name).map(|def| &def.kind) else { continue };
        let mut candidates = Vec::new();
        for variant in union.variants.iter().filter(|variant| !variant.boxed) {
            let TypeRef::Named(branch) = &variant.ty else { continue };
            let Some(TypeKind::Struct(fields)) = types.get(branch).map(|def| &def.kind) else { continue };
            let [field] = fields.fields.as_slice() else { continue };
            if fields.extra.is_some() || field.presence == Presence::RequiredNullable || field.boxed {
                continue;
            }
            candidates.push(BranchConstructor {
                name: field.name.clone(),
                variant: variant.name.clone(),
                branch: branch.clone(),
                field_ty: field.ty.clone(),
                optional: field.presence == Presence::Optional,
                setter: field.setter.clone(),
                wire_name: field.wire_name.clone(),
            });
        }
        let mut uses: BTreeMap<String, usize> = BTreeMap::new();
        for candidate in &candidates {
            *uses.entry(candidate.name.clone()).or_default() += 1;
        }
        candidates.retain(|candidate| uses[&candidate.name] == 1);
        if let Some(TypeKind::Union(union)) = types.get_mut(&union_name).map(|def| &mut def.kind) {
            union.constructors = candidates;
        }
    }
}
