//! Errors and warnings. Every one names a place (file, line when known, JSON pointer) and the rule.

use std::fmt;
use std::path::PathBuf;

/// Where in which spec document something was found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// The document, as it was given to the loader.
    pub file: PathBuf,
    /// 1-based line in the document, when it could be found.
    pub line: Option<usize>,
    /// 1-based column, when known (YAML syntax errors).
    pub column: Option<usize>,
    /// JSON pointer of the node (`#/components/schemas/Amount`), empty for the whole file.
    pub pointer: String,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        if !self.pointer.is_empty() {
            write!(f, " at #{}", self.pointer)?;
        }
        Ok(())
    }
}

/// What went wrong; the variants are the rules a spec can break.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The file could not be read.
    Io(String),
    /// The YAML (or JSON) text is malformed.
    Syntax(String),
    /// The document does not have the shape of an OpenAPI 3.0 document.
    Shape(String),
    /// A `$ref` points at nothing.
    UnknownRef(String),
    /// A `$ref` leads back to itself without passing through a schema.
    RefCycle(Vec<String>),
    /// A remote `$ref` URL that has no entry in the remote-ref map.
    UnmappedRemoteRef(String),
    /// A mapped remote file whose sha256 does not match the map.
    ChecksumMismatch {
        /// The mapped file.
        file: PathBuf,
        /// The sha256 the map expects.
        expected: String,
        /// The sha256 of the file on disk.
        actual: String,
    },
    /// A construct the generator does not support.
    Unsupported(String),
    /// The codegen settings are wrong.
    Settings(String),
    /// Generated tokens failed to parse: a generator bug, reported rather than panicking.
    Internal(String),
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Io(message) => write!(f, "cannot read: {message}"),
            ErrorKind::Syntax(message) => write!(f, "malformed YAML: {message}"),
            ErrorKind::Shape(message) => write!(f, "not a valid OpenAPI 3.0 document: {message}"),
            ErrorKind::UnknownRef(target) => write!(f, "unknown $ref '{target}': nothing at that pointer"),
            ErrorKind::RefCycle(chain) => write!(f, "$ref cycle with no schema in between: {}", chain.join(" -> ")),
            ErrorKind::UnmappedRemoteRef(url) => write!(
                f,
                "remote $ref '{url}' has no entry in the remote-ref map (nothing is fetched; add it to spec/remote-refs.yaml or pass --map-ref URL=FILE)"
            ),
            ErrorKind::ChecksumMismatch { file, expected, actual } => write!(
                f,
                "mapped file {} has sha256 {actual}, the remote-ref map expects {expected}",
                file.display()
            ),
            ErrorKind::Unsupported(message) => write!(f, "unsupported construct: {message}"),
            ErrorKind::Settings(message) => write!(f, "bad codegen settings: {message}"),
            ErrorKind::Internal(message) => write!(f, "generator bug: {message}"),
        }
    }
}

/// A located codegen error (boxed: errors are rare, results are everywhere).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {}", .0.location, .0.kind)]
pub struct Error(Box<ErrorData>);

/// The contents of an [`Error`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorData {
    /// Where.
    pub location: Location,
    /// What.
    pub kind: ErrorKind,
}

impl Error {
    /// An error at a place.
    pub fn new(location: Location, kind: ErrorKind) -> Self {
        Self(Box::new(ErrorData { location, kind }))
    }
}

impl std::ops::Deref for Error {
    type Target = ErrorData;
    fn deref(&self) -> &ErrorData {
        &self.0
    }
}

impl std::ops::DerefMut for Error {
    fn deref_mut(&mut self) -> &mut ErrorData {
        &mut self.0
    }
}

/// Which lint rule a warning comes from; stable names for snapshots and filtering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lint {
    /// A name in `required` that is not in `properties`.
    RequiredWithoutProperty,
    /// A success response declared as `application/problem+json`.
    ProblemJsonSuccess,
    /// An example that does not satisfy its own schema.
    ExampleBreaksSchema,
    /// A `oneOf` whose branches cannot be told apart by shape.
    AmbiguousUnion,
    /// An operation the merchant serves (a callback or merchant-tagged path): types only, no client method.
    MerchantServedOperation,
    /// A `format` the generator does not know; the value stays a `String`.
    UnknownFormat,
    /// An enum that is nullable but does not list `null`.
    NullableEnumWithoutNull,
    /// Something the generator ignores (a keyword it does not act on).
    Ignored,
    /// A request body of a media type the client cannot encode (not JSON, not a form): bytes.
    RawBody,
    /// A schema with `properties` but no `type`: read as an object.
    MissingType,
    /// An operation without `operationId`: named from its method and path.
    MissingOperationId,
    /// A reviewed setting (`overrides` in the settings) replaced a value of the document.
    SettingsOverride,
    /// A settings override that no longer applies: its place is gone, or the document now says
    /// the same itself (review and remove it).
    StaleOverride,
    /// A security scheme the runtime cannot fill (or one not defined): the methods that need
    /// it take the credential as a parameter.
    UnsupportedSecurity,
}

impl Lint {
    /// Kebab-case name used in output.
    pub fn name(self) -> &'static str {
        match self {
            Lint::RequiredWithoutProperty => "required-without-property",
            Lint::ProblemJsonSuccess => "problem-json-success",
            Lint::ExampleBreaksSchema => "example-breaks-schema",
            Lint::AmbiguousUnion => "ambiguous-union",
            Lint::MerchantServedOperation => "merchant-served-operation",
            Lint::UnknownFormat => "unknown-format",
            Lint::NullableEnumWithoutNull => "nullable-enum-without-null",
            Lint::Ignored => "ignored",
            Lint::RawBody => "raw-body",
            Lint::MissingType => "missing-type",
            Lint::MissingOperationId => "missing-operation-id",
            Lint::SettingsOverride => "settings-override",
            Lint::StaleOverride => "stale-override",
            Lint::UnsupportedSecurity => "unsupported-security",
        }
    }
}

/// A spec defect the generator worked around.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Warning {
    /// Where.
    pub location: Location,
    /// Which rule.
    pub lint: Lint,
    /// What, in a sentence.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "warning[{}]: {}: {}", self.lint.name(), self.location, self.message)
    }
}
