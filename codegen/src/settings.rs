//! Codegen settings (`spec/codegen.yaml`) and the remote-ref map (`spec/remote-refs.yaml`).
//! The generator knows API conventions only through these: header names come from here, never
//! from code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, ErrorKind, Location};

/// Header parameters with a meaning the runtime knows; matched case-insensitively.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HeaderRoles {
    /// Carries the access token; filled by the auth layer, never an argument.
    pub authorization: String,
    /// The API subscription key, filled from the client's credentials.
    pub subscription_key: String,
    /// The merchant serial number, filled from the client's configuration.
    pub merchant_serial_number: String,
    /// The idempotency key: taken from the caller or made per logical call.
    pub idempotency_key: String,
    /// Prefix of the optional system-identification headers, filled from configuration.
    pub system_header_prefix: String,
    /// The client id header of the access-token call, filled from the client's credentials.
    #[serde(default)]
    pub client_id: String,
    /// The client secret header of the access-token call, filled from the client's credentials.
    #[serde(default)]
    pub client_secret: String,
}

fn default_crate_lib() -> String {
    "generated_api".into()
}

/// Conventions of the generated client (`client:` in the settings); every field has a default,
/// so a settings file without the section still generates.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClientSettings {
    /// Rust path at which the generated crate re-exports the runtime (`vipps-runtime`) its
    /// generated code calls.
    #[serde(default = "default_runtime_path")]
    pub runtime: String,
    /// Runtime environment name -> index into each document's `servers`.
    #[serde(default)]
    pub environments: BTreeMap<String, usize>,
    /// `operationId` of the access-token operation: generated crate-private, so the runtime's token
    /// cache is its only caller and the token never leaves the crate unredacted.
    #[serde(default)]
    pub token_operation: Option<String>,
    /// Wire names of the path parameter or top-level body property recorded as the `reference`
    /// field of each call's tracing span (first match wins).
    #[serde(default)]
    pub span_reference: Vec<String>,
    /// Wire names of the token operation's answer the token cache reads.
    #[serde(default)]
    pub token_fields: TokenFields,
}

/// Where the token operation's answer holds the token and its expiry (OAuth 2's names by
/// default, plus `expires_on`, Unix time, as Azure AD and Vipps answer it).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct TokenFields {
    /// The token.
    pub access_token: String,
    /// Its lifetime in seconds from now.
    pub expires_in: String,
    /// Its expiry as Unix time.
    pub expires_on: String,
}

impl Default for TokenFields {
    fn default() -> Self {
        Self { access_token: "access_token".into(), expires_in: "expires_in".into(), expires_on: "expires_on".into() }
    }
}

fn default_runtime_path() -> String {
    "crate::runtime".into()
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            runtime: default_runtime_path(),
            environments: BTreeMap::new(),
            token_operation: None,
            span_reference: Vec::new(),
            token_fields: TokenFields::default(),
        }
    }
}

/// One spec document and the module its code goes into.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SpecEntry {
    /// The document, relative to the settings file.
    pub file: PathBuf,
    /// The Rust module name of its generated code.
    pub module: String,
    /// Reviewed departures from the document, applied after it is resolved (each one reported
    /// as a `settings-override` lint, so every regeneration shows them).
    #[serde(default)]
    pub overrides: Vec<Override>,
}

/// One reviewed change to a document: the value at `pointer` (of the resolved document) is set
/// to `value`. For what the official document leaves open and the server decides (a request
/// body the server always needs, the valid form of a header), so the generated types say it
/// without our copy of the document departing from the official structure.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// JSON pointer of the value (its parent must exist).
    pub pointer: String,
    /// The value to set there.
    pub value: serde_json::Value,
    /// Why: the rule or observation the override follows (shown in the lint).
    pub why: String,
}

/// Everything `spec/codegen.yaml` holds.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Library name of the generated crate (`use <crate_lib>::...` in its generated tests).
    #[serde(default = "default_crate_lib")]
    pub crate_lib: String,
    /// Header conventions.
    pub headers: HeaderRoles,
    /// Operations with one of these tags are served by the merchant, not called by the client.
    #[serde(default)]
    pub merchant_served_tags: Vec<String>,
    /// Operations with one of these tags only exist in the test environment: the client refuses
    /// them, before sending, when configured for production.
    #[serde(default)]
    pub test_only_tags: Vec<String>,
    /// Property names (any schema, matched case-insensitively) whose values are credentials:
    /// the generated `Debug` shows them redacted.
    #[serde(default)]
    pub secret_properties: Vec<String>,
    /// Conventions of the generated client.
    #[serde(default)]
    pub client: ClientSettings,
    /// The documents, in module order.
    pub specs: Vec<SpecEntry>,
    /// The remote-ref map file, relative to the settings file.
    #[serde(default)]
    pub remote_refs: Option<PathBuf>,
}

impl Settings {
    /// Settings for a lone document with no conventions file: the module is named after the file.
    pub fn defaults_for(headers: HeaderRoles) -> Self {
        Self {
            crate_lib: default_crate_lib(),
            headers,
            merchant_served_tags: Vec::new(),
            test_only_tags: Vec::new(),
            secret_properties: Vec::new(),
            client: ClientSettings::default(),
            specs: Vec::new(),
            remote_refs: None,
        }
    }
}

impl Default for HeaderRoles {
    /// Used when no settings file is given (standalone generation): only the standard HTTP
    /// `Authorization` header has a role; API conventions come from a settings file.
    /// An empty name matches no header.
    fn default() -> Self {
        Self {
            authorization: "Authorization".into(),
            subscription_key: String::new(),
            merchant_serial_number: String::new(),
            idempotency_key: String::new(),
            system_header_prefix: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
        }
    }
}

/// One entry of the remote-ref map: a URL's local stand-in.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RemoteRefEntry {
    /// The local file, relative to the map file (or absolute).
    pub file: PathBuf,
    /// Hex sha256 the file must have; checked so a changed file is not used silently.
    #[serde(default)]
    pub sha256: Option<String>,
}

/// URL (without fragment) -> local file. Nothing is ever fetched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteRefMap {
    /// Entries by URL.
    pub entries: BTreeMap<String, RemoteRefEntry>,
}

impl RemoteRefMap {
    /// Adds a `URL=FILE` mapping given on a command line (no checksum: the user named the file).
    pub fn insert_cli(&mut self, spec: &str) -> Result<(), String> {
        let (url, file) = spec
            .split_once('=')
            .ok_or_else(|| format!("--map-ref takes URL=FILE, got '{spec}'"))?;
        let url = url.split('#').next().unwrap_or(url).to_string();
        self.entries.insert(url, RemoteRefEntry { file: PathBuf::from(file), sha256: None });
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RemoteRefFile {
    #[serde(default)]
    remote_refs: BTreeMap<String, RemoteRefEntry>,
}

fn settings_error(path: &Path, message: String) -> Error {
    Error::new(
        Location { file: path.to_path_buf(), line: None, column: None, pointer: String::new() },
        ErrorKind::Settings(message),
    )
}

fn read_yaml<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, Error> {
    let text = std::fs::read_to_string(path).map_err(|err| settings_error(path, err.to_string()))?;
    yaml_serde::from_str(&text).map_err(|err| {
        let mut error = settings_error(path, err.to_string());
        if let Some(at) = err.location() {
            error.location.line = Some(at.line());
            error.location.column = Some(at.column());
        }
        error
    })
}

/// Reads `codegen.yaml`.
pub fn load_settings(path: &Path) -> Result<Settings, Error> {
    let settings: Settings = read_yaml(path)?;
    let runtime_path_ok = settings.client.runtime.split("::").all(|segment| {
        segment.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && segment.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    if !runtime_path_ok {
        return Err(settings_error(path, format!("client.runtime '{}' is not a Rust path", settings.client.runtime)));
    }
    if !crate::names::is_valid_module_name(&settings.crate_lib) {
        return Err(settings_error(path, format!("crate_lib '{}' is not a snake_case identifier", settings.crate_lib)));
    }
    for spec in &settings.specs {
        if !crate::names::is_valid_module_name(&spec.module) {
            return Err(settings_error(path, format!("module name '{}' is not a snake_case identifier", spec.module)));
        }
    }
    let modules: Vec<String> = settings.specs.iter().map(|spec| spec.module.clone()).collect();
    if let Some(clash) = crate::layout::module_clash(&modules) {
        return Err(settings_error(path, format!("the specs' modules clash: {clash}")));
    }
    Ok(settings)
}

/// Reads a remote-ref map; relative files are taken relative to the map.
pub fn load_remote_refs(path: &Path) -> Result<RemoteRefMap, Error> {
    let file: RemoteRefFile = read_yaml(path)?;
    let base = path.parent().unwrap_or(Path::new("."));
    let entries = file
        .remote_refs
        .into_iter()
        .map(|(url, mut entry)| {
            entry.file = base.join(&entry.file);
            (url, entry)
        })
        .collect();
    Ok(RemoteRefMap { entries })
}
