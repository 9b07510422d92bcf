//! Temporary scratch: dumps the IR (removed before hand-back).
use std::path::Path;
use vipps_codegen::ir::*;
#[test]
fn dump() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let g = vipps_codegen::generate_project(root, &root.join("spec/codegen.yaml"), &Default::default()).unwrap();
    for api in &g.apis {
        let mut out = String::new();
        for op in &api.operations {
            out += &format!("OP {} {} {} ms={} body={:?}\n", op.id, op.method, op.path, op.merchant_served, op.body.as_ref().map(|b| (&b.ty, b.required)));
            for p in &op.params { out += &format!("   param {} {:?} req={} {:?} {:?} max={:?}\n", p.wire_name, p.location, p.required, p.ty, p.role, p.max_length); }
        }
        for t in api.types.values() {
            match &t.kind {
                TypeKind::Struct(s) => { out += &format!("STRUCT {} extra={:?}\n", t.name, s.extra); for f in &s.fields { out += &format!("   {} ({}) {:?} {:?} boxed={}\n", f.wire_name, f.name, f.ty, f.presence, f.boxed); } }
                TypeKind::Enum(e) => out += &format!("ENUM {} {:?}\n", t.name, e.variants.iter().map(|v| &v.wire).collect::<Vec<_>>()),
                TypeKind::Union(u) => { out += &format!("UNION {} {:?}\n", t.name, u.strategy); for v in &u.variants { out += &format!("   {} {:?} props={:?} tags={:?} boxed={}\n", v.name, v.ty, v.properties, v.tags, v.boxed); } }
                TypeKind::Map(m) => out += &format!("MAP {} {:?} min={:?} max={:?}\n", t.name, m.value, m.min_properties, m.max_properties),
                TypeKind::Newtype(n) => out += &format!("NEWTYPE {} {:?} {:?}  origin={}\n", t.name, n.inner, n.rules, t.origin),
                TypeKind::Alias(a) => out += &format!("ALIAS {} {:?}\n", t.name, a),
            }
        }
        std::fs::write(format!("/tmp/sdump/{}.txt", api.module), out).unwrap();
    }
}
