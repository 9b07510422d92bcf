//! A pass that boxes fields which would otherwise make a type contain itself.
//!
//! A type contains another directly through struct fields (`T`, `Option<T>`), union payloads and
//! aliases; `Vec` and maps add indirection already. Every direct edge inside a strongly connected
//! component of that graph (self-loops included) is boxed.

use std::collections::{BTreeMap, BTreeSet};

use crate::ir::{TypeDef, TypeKind, TypeRef};

fn direct_target(ty: &TypeRef) -> Option<&str> {
    match ty {
        TypeRef::Named(name) => Some(name),
        _ => None,
    }
}

fn direct_edges(def: &TypeDef) -> Vec<String> {
    let targets: Vec<&TypeRef> = match &def.kind {
        TypeKind::Struct(s) => s.fields.iter().map(|f| &f.ty).collect(),
        TypeKind::Union(u) => u.variants.iter().map(|v| &v.ty).collect(),
        TypeKind::Alias(target) => vec![target],
        TypeKind::Newtype(n) => vec![&n.inner],
        TypeKind::Enum(_) | TypeKind::Map(_) => Vec::new(),
    };
    targets.into_iter().filter_map(direct_target).map(str::to_string).collect()
}

/// Tarjan's SCC over `edges`; returns the component index of each type.
fn components(types: &BTreeMap<String, TypeDef>, edges: &dyn Fn(&TypeDef) -> Vec<String>) -> BTreeMap<String, usize> {
    struct State<'a> {
        types: &'a BTreeMap<String, TypeDef>,
        edges: &'a dyn Fn(&TypeDef) -> Vec<String>,
        index: usize,
        indices: BTreeMap<String, usize>,
        lowlink: BTreeMap<String, usize>,
        stack: Vec<String>,
        on_stack: BTreeSet<String>,
        component: BTreeMap<String, usize>,
        next_component: usize,
    }
    fn visit(state: &mut State<'_>, name: &str) {
        state.indices.insert(name.to_string(), state.index);
        state.lowlink.insert(name.to_string(), state.index);
        state.index += 1;
        state.stack.push(name.to_string());
        state.on_stack.insert(name.to_string());
        let edges = state.types.get(name).map(state.edges).unwrap_or_default();
        for target in edges {
            if !state.types.contains_key(&target) {
                continue;
            }
            if !state.indices.contains_key(&target) {
                visit(state, &target);
                let low = state.lowlink[&target].min(state.lowlink[name]);
                state.lowlink.insert(name.to_string(), low);
            } else if state.on_stack.contains(&target) {
                let low = state.indices[&target].min(state.lowlink[name]);
                state.lowlink.insert(name.to_string(), low);
            }
        }
        if state.lowlink[name] == state.indices[name] {
            while let Some(member) = state.stack.pop() {
                state.on_stack.remove(&member);
                state.component.insert(member.clone(), state.next_component);
                if member == name {
                    break;
                }
            }
            state.next_component += 1;
        }
    }
    let mut state = State {
        types,
        edges,
        index: 0,
        indices: BTreeMap::new(),
        lowlink: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        component: BTreeMap::new(),
        next_component: 0,
    };
    for name in types.keys() {
        if !state.indices.contains_key(name) {
            visit(&mut state, name);
        }
    }
    state.component
}

/// Boxes every direct edge that stays inside its strongly connected component.
pub fn box_cycles(types: &mut BTreeMap<String, TypeDef>) {
    let component = components(types, &direct_edges);
    let same = |a: &str, b: &str| component.get(a).is_some_and(|ca| component.get(b) == Some(ca));
    for (name, def) in types.iter_mut() {
        match &mut def.kind {
            TypeKind::Struct(s) => {
                for field in &mut s.fields {
                    if direct_target(&field.ty).is_some_and(|t| same(name, t)) {
                        field.boxed = true;
                    }
                }
            }
            TypeKind::Union(u) => {
                for variant in &mut u.variants {
                    if direct_target(&variant.ty).is_some_and(|t| same(name, t)) {
                        variant.boxed = true;
                    }
                }
            }
            _ => {}
        }
    }
}

/// The types on a cycle of `edges` (a component of several types, or a type with an edge to
/// itself) and every type that reaches one: linear in types and edges.
pub fn on_or_reaching_cycle(types: &BTreeMap<String, TypeDef>, edges: &dyn Fn(&TypeDef) -> Vec<String>) -> BTreeSet<String> {
    let component = components(types, edges);
    let mut sizes: BTreeMap<usize, usize> = BTreeMap::new();
    for index in component.values() {
        *sizes.entry(*index).or_default() += 1;
    }
    let mut callers: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut found = BTreeSet::new();
    let mut stack = Vec::new();
    for (name, def) in types {
        for target in edges(def) {
            let Some((target, _)) = types.get_key_value(&target) else { continue };
            callers.entry(target.as_str()).or_default().push(name.as_str());
            if target == name && found.insert(name.clone()) {
                stack.push(name.as_str());
            }
        }
        if sizes[&component[name]] > 1 && found.insert(name.clone()) {
            stack.push(name.as_str());
        }
    }
    while let Some(name) = stack.pop() {
        for caller in callers.get(name).into_iter().flatten() {
            if found.insert((*caller).to_string()) {
                stack.push(caller);
            }
        }
    }
    found
}
