//! In-process cost of each codegen stage on our ePayment spec, against a baseline measured in
//! the same run: parsing the same YAML into a JSON tree, the floor of any generator.
//! Run through `cargo xtask bench` (which reads criterion's estimates) or `cargo bench`.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use vipps_codegen::load::parse_document;
use vipps_codegen::{HeaderRoles, RemoteRefMap, Settings, emit, format, lower, resolve};

fn spec_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/epayment.yaml")
}

fn stages(c: &mut Criterion) {
    let path = spec_path();
    let text = std::fs::read_to_string(&path).expect("spec readable");
    let refs = RemoteRefMap::default();
    let settings = Settings::defaults_for(HeaderRoles::default());
    let document = parse_document(path.clone(), text.clone()).expect("spec parses");
    let resolved = resolve(document.clone(), &refs).expect("spec resolves");
    let api = lower::lower(&resolved, &settings, "epayment").expect("spec lowers");
    let tokens = emit::emit_api_module(&api, "spec/epayment.yaml");
    let header = format::generated_header("spec/epayment.yaml", &resolved.sha256());

    let mut group = c.benchmark_group("codegen");
    group.bench_function("baseline_yaml_parse", |b| {
        b.iter(|| black_box(yaml_serde::from_str::<serde_json::Value>(black_box(&text)).unwrap()))
    });
    group.bench_function("load", |b| b.iter(|| black_box(parse_document(path.clone(), text.clone()).unwrap())));
    group.bench_function("resolve", |b| {
        b.iter_batched(|| document.clone(), |d| black_box(resolve(d, &refs).unwrap()), BatchSize::SmallInput)
    });
    group.bench_function("lower", |b| b.iter(|| black_box(lower::lower(&resolved, &settings, "epayment").unwrap())));
    group.bench_function("emit", |b| b.iter(|| black_box(emit::emit_api_module(&api, "spec/epayment.yaml"))));
    group.bench_function("format", |b| {
        b.iter_batched(|| tokens.clone(), |t| black_box(format::format_file(t, &header).unwrap()), BatchSize::SmallInput)
    });
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
