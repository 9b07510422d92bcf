//! Spec-driven code generator for the Vipps MobilePay ePayment SDK.
//!
//! The pipeline is a chain of plain stages:
//! `load` (YAML -> JSON tree) -> `resolve` (bundle `$ref`s) -> `lower` (IR, all decisions) ->
//! `emit` (tokens) -> `format` (prettyplease + `@generated` header) -> `output` (write or check).
//! Nothing here knows ePayment names: conventions come from the settings in `spec/`.

pub mod diff;
pub mod emit;
pub mod error;
pub mod format;
pub mod layout;
pub mod ir;
pub mod json_schema;
pub mod lint;
pub mod load;
mod locate;
pub mod lower;
pub mod names;
pub mod output;
pub mod overrides;
pub mod project;
pub mod resolve;
pub mod settings;
pub mod shared;
pub mod stamp;
mod standalone;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use quote::quote;

pub use error::{Error, ErrorData, ErrorKind, Lint, Location, Warning};
pub use ir::Api;
pub use output::{GeneratedFile, OutputMode, OutputReport, write_or_check};
pub use resolve::{Resolved, resolve, resolve_file, sha256_hex};
pub use settings::{HeaderRoles, RemoteRefMap, Settings, load_remote_refs, load_settings};

/// The result of a generation run: the files (paths relative to the output crate) and what was
/// learned on the way.
#[derive(Debug, Clone)]
pub struct Generation {
    /// Lowered APIs, in settings order.
    pub apis: Vec<Api>,
    /// Files to write.
    pub files: Vec<GeneratedFile>,
    /// Every warning of every API.
    pub warnings: Vec<Warning>,
}

/// Where the generated code of the project goes (`generated/`), as `layout` decides.
pub use layout::PROJECT_CRATE_DIR;
/// The folder of the generated modules inside the crate.
pub use layout::GENERATED_DIR as PROJECT_GENERATED_DIR;
/// The folder where the spec copies live inside the crate (read by `spec diff`).
pub use layout::SPEC_COPY_DIR as PROJECT_SPEC_COPY_DIR;

/// Loads, resolves and lowers one document.
pub fn lower_file(path: &Path, settings: &Settings, module: &str, remote_refs: &RemoteRefMap) -> Result<(Resolved, Api), Error> {
    let resolved = resolve_file(path, remote_refs)?;
    let api = lower::lower(&resolved, settings, module)?;
    Ok((resolved, api))
}

/// Runs the whole pipeline on a document already in memory: the models module's source text.
/// Used by tests and tools that have no file on disk.
pub fn generate_module_source(
    document: load::Document,
    settings: &Settings,
    module: &str,
    remote_refs: &RemoteRefMap,
) -> Result<(Api, String), Error> {
    let resolved = resolve(document, remote_refs)?;
    let api = lower::lower(&resolved, settings, module)?;
    let display = resolved.root.path.display().to_string();
    let header = format::generated_header(&display, &resolved.sha256());
    let source = format::format_file(emit::emit_api_module(&api, &display), &header)?;
    Ok((api, source))
}

/// Generates the project's SDK from `spec/codegen.yaml` (the crate `generated/`: its generated
/// modules, their example round-trip tests and the spec copies).
///
/// `root` is the workspace root: settings paths are shown relative to it in headers, so the
/// output does not depend on where the checkout lives.
pub fn generate_project(root: &Path, settings_path: &Path, extra_refs: &RemoteRefMap) -> Result<Generation, Error> {
    let settings = load_settings(settings_path)?;
    let settings_dir = settings_path.parent().unwrap_or(Path::new("."));
    let mut remote_refs = match &settings.remote_refs {
        Some(file) => load_remote_refs(&settings_dir.join(file))?,
        None => RemoteRefMap::default(),
    };
    remote_refs.entries.extend(extra_refs.entries.clone());
    let settings_text = std::fs::read(settings_path).unwrap_or_default();
    let source = SettingsSource { display: display_path(root, settings_path), sha256: sha256_hex(&settings_text) };
    let mut generation = generate_crate(root, &settings, settings_dir, &source, &remote_refs)?;
    let lib = &settings.crate_lib;
    let mut dispatch_mod = quote! { //! Generated example round-trip dispatch, one module per spec.
    };
    for (api, header) in generation.apis.iter().zip(&generation.headers) {
        let lib = quote::format_ident!("{}", lib);
        let module_ident = quote::format_ident!("{}", api.module);
        let dispatch = emit::emit_roundtrip_dispatch(api, &quote! { #lib::#module_ident });
        generation.files.push(GeneratedFile {
            path: layout::roundtrip_file(&api.module),
            contents: format::format_file(dispatch, header)?,
        });
        dispatch_mod.extend(quote! { pub mod #module_ident; });
    }
    generation.files.push(GeneratedFile { path: layout::roundtrip_file(layout::ROOT_MODULE), contents: format::format_file(dispatch_mod, &generation.mod_header)? });
    let relative = |path: &Path| path.strip_prefix(root).unwrap_or(path).to_path_buf();
    let mut inputs = std::mem::take(&mut generation.inputs);
    inputs.insert(relative(settings_path), source.sha256.clone());
    if let Some(file) = &settings.remote_refs {
        let path = settings_dir.join(file);
        inputs.insert(relative(&path), sha256_hex(&std::fs::read(&path).unwrap_or_default()));
    }
    let stamp = stamp::stamp_file(&inputs, &generation.files);
    generation.files.push(stamp);
    generation.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(generation.into())
}

/// Where the settings of a run came from, for the `@generated` headers.
struct SettingsSource {
    display: String,
    sha256: String,
}

fn display_path(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string().replace('\\', "/")
}

/// A generated crate's files before the layout adds its own, with what the layout needs.
struct CrateGeneration {
    apis: Vec<Api>,
    files: Vec<GeneratedFile>,
    warnings: Vec<Warning>,
    /// The `@generated` header of each API's files, in `apis` order.
    headers: Vec<Vec<String>>,
    /// The header of files made from every document (`mod.rs`).
    mod_header: Vec<String>,
    /// Every document file read (relative to the root where it is under it) -> sha256 of its text.
    inputs: BTreeMap<PathBuf, String>,
}

impl From<CrateGeneration> for Generation {
    fn from(generation: CrateGeneration) -> Self {
        Generation { apis: generation.apis, files: generation.files, warnings: generation.warnings }
    }
}

/// The one generation path: every document of `settings` -> the crate's `src/generated/` tree
/// (models, one client method per operation, the glue, strategies behind the `proptest`
/// feature, support) and the spec copies in `spec/`. The project's SDK and a standalone crate
/// both come from here; they differ only in the settings and the files their layout adds.
fn generate_crate(
    root: &Path,
    settings: &Settings,
    settings_dir: &Path,
    source: &SettingsSource,
    remote_refs: &RemoteRefMap,
) -> Result<CrateGeneration, Error> {
    let mut files = Vec::new();
    let mut warnings = Vec::new();
    let mut modules = Vec::new();
    let mut client_modules = Vec::new();
    let mut checksums = Vec::new();
    let mut apis = Vec::new();
    let mut places = Vec::new();
    let mut inputs = BTreeMap::new();
    for entry in &settings.specs {
        let spec_path = settings_dir.join(&entry.file);
        let (resolved, api) = lower_file(&spec_path, settings, &entry.module, remote_refs)?;
        let spec_display = display_path(root, &spec_path);
        inputs.extend(resolved.sources().map(|(path, sha)| (path.strip_prefix(root).unwrap_or(path).to_path_buf(), sha)));
        let sha = resolved.sha256();
        let header = format::generated_header(&spec_display, &sha);
        checksums.push(format!("{spec_display} {sha}"));
        let file_name = entry.file.file_name().map(PathBuf::from).unwrap_or_else(|| entry.file.clone());
        files.push(GeneratedFile { path: layout::spec_copy(&file_name), contents: resolved.root.text.clone() });
        warnings.extend(api.warnings.iter().cloned());
        modules.push(entry.module.clone());
        client_modules.push(layout::client_module(&entry.module));
        apis.push(api);
        places.push((spec_display, header));
    }
    // The crate-level decision, once every document is lowered: types defined alike are one.
    let common = lower::common::share_common_types(&mut apis);
    // Emitting and formatting dominate the run: every file's chunks are one queue for every core.
    let client_settings = &settings.client;
    let mut planned = Vec::new();
    for (api, (spec_display, header)) in apis.iter().zip(&places) {
        let module = &api.module;
        planned.push(format::ChunkedFile { path: layout::module_file(module), header, chunks: emit::emit_api_module_chunks(api, spec_display) });
        planned.push(format::ChunkedFile {
            path: layout::module_file(&layout::client_module(module)),
            header,
            chunks: emit::emit_client_module_chunks(api, spec_display, client_settings),
        });
        // Proptest strategies of the request models, behind the crate's `proptest` feature.
        planned.push(format::ChunkedFile {
            path: layout::module_file(&layout::strategies_module(module)),
            header,
            chunks: emit::emit_strategies_module_chunks(api, spec_display),
        });
    }
    files.extend(format::format_files(planned)?);
    let headers: Vec<Vec<String>> = places.into_iter().map(|(_, header)| header).collect();
    let support_header = format::generated_header(&source.display, &source.sha256);
    files.push(GeneratedFile {
        path: layout::module_file(layout::SUPPORT_MODULE),
        contents: format::with_header(emit::SUPPORT_FORMATTED, &support_header),
    });
    files.push(GeneratedFile {
        path: layout::module_file(layout::STRATEGY_SUPPORT_MODULE),
        contents: format::with_header(emit::STRATEGY_SUPPORT_FORMATTED, &support_header),
    });
    let mut mod_header = support_header.clone();
    mod_header.extend(checksums.iter().map(|line| format!("spec: {line}")));
    let plan = lower::glue::plan(&apis, &settings.client);
    let has_common = !common.types.is_empty();
    if has_common {
        // Its types come from several documents, so its header names every one of them.
        files.push(GeneratedFile { path: layout::module_file(layout::COMMON_MODULE), contents: format::format_file(emit::emit_common_module(&common), &mod_header)? });
    }
    let mut tokens = emit::emit_mod_file(&modules, &client_modules, has_common, &plan, &settings.client);
    tokens.extend(emit::emit_strategies_mod_entries(&modules));
    files.push(GeneratedFile { path: layout::module_file(layout::ROOT_MODULE), contents: format::format_file(tokens, &mod_header)? });
    for warning in &mut warnings {
        if let Ok(relative) = warning.location.file.strip_prefix(root) {
            warning.location.file = relative.to_path_buf();
        }
    }
    Ok(CrateGeneration { apis, files, warnings, headers, mod_header, inputs })
}

/// How a standalone crate is made: the command line's settings.
#[derive(Debug, Clone, Default)]
pub struct StandaloneOptions {
    /// The crate's package name (`generated-api` when None).
    pub crate_name: Option<String>,
    /// Local stand-ins of remote references.
    pub remote_refs: RemoteRefMap,
    /// Tags of operations the merchant serves (types only, no client method).
    pub merchant_served_tags: Vec<String>,
    /// A settings file whose conventions (headers, client, secret properties, tags) apply; its
    /// own documents are ignored. Without one, only the standard `Authorization` header has a
    /// role and every other header is a method parameter.
    pub conventions: Option<PathBuf>,
}

/// Generates a standalone crate (its own `Cargo.toml` and `src/lib.rs`) from any one document,
/// through the same path as the project's SDK: the settings are the command line's.
pub fn generate_standalone(spec_path: &Path, options: &StandaloneOptions) -> Result<Generation, Error> {
    let mut settings = match &options.conventions {
        Some(file) => {
            let mut settings = load_settings(file)?;
            settings.specs.clear();
            settings.remote_refs = None;
            settings
        }
        None => Settings::defaults_for(HeaderRoles::default()),
    };
    settings.merchant_served_tags.extend(options.merchant_served_tags.iter().cloned());
    let file_name = spec_path.file_name().map(PathBuf::from).unwrap_or_default();
    let module = names::field_name(&spec_path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default());
    settings.specs = vec![settings::SpecEntry { file: file_name.clone(), module: module.clone(), overrides: Vec::new() }];
    let spec_dir = spec_path.parent().unwrap_or(Path::new("."));
    let spec_text = std::fs::read(spec_path).unwrap_or_default();
    let source = SettingsSource { display: file_name.display().to_string(), sha256: sha256_hex(&spec_text) };
    let mut generation = generate_crate(spec_dir, &settings, spec_dir, &source, &options.remote_refs)?;
    let crate_name = options.crate_name.as_deref().unwrap_or("generated-api");
    let api = &generation.apis[0];
    let lib_doc = format!(" {} {} (from `{}`), generated by vipps-codegen.", api.title, api.version, file_name.display());
    let lib = quote! {
        #![doc = #lib_doc]

        mod generated;

        /// The client runtime the generated code calls.
        pub use vipps_runtime as runtime;

        pub use generated::*;
        pub use runtime::{CallOptions, Environment, Error, Idempotent, IdempotentOptions, Problem, RetryPolicy};
    };
    let header = &generation.mod_header;
    generation.files.push(GeneratedFile { path: "src/lib.rs".into(), contents: format::format_file(lib, header)? });
    generation.files.push(GeneratedFile { path: "Cargo.toml".into(), contents: standalone::cargo_toml(crate_name, header) });
    generation.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(generation.into())
}
