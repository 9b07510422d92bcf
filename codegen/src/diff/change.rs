//! The change kinds of the spec diff, as plain data: what changed, never how bad it is (that is
//! the rules table in `rules.rs`).

use std::fmt;

use serde::Serialize;

/// How a change affects the generated crate's users, as a semver bump (ordered: patch < minor < major).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Semver {
    /// Nothing a user's code can observe at compile time (docs, validation rules, wire details).
    Patch,
    /// New API; existing code still compiles.
    Minor,
    /// Existing code may stop compiling (a type, field, variant or argument changes or goes away).
    Major,
}

impl Semver {
    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Semver::Patch => "patch",
            Semver::Minor => "minor",
            Semver::Major => "major",
        }
    }
}

impl fmt::Display for Semver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether a client built on the old document still works against a server on the new one
/// (for merchant-served operations: whether a merchant built on the old one still understands
/// what the new server sends).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Wire {
    /// The old client keeps working.
    Compatible,
    /// Some exchange of the old client fails or means something else.
    Breaking,
}

impl Wire {
    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Wire::Compatible => "compatible",
            Wire::Breaking => "breaking",
        }
    }
}

impl fmt::Display for Wire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which way the data of a changed place travels, seen from the generated crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The crate sends it (request bodies and parameters of the operations it calls).
    Request,
    /// The crate receives it (responses; the requests of merchant-served operations).
    Response,
    /// Both: the schema is used in requests and in responses.
    Both,
    /// Not reachable from any operation: only the Rust type is affected, never the wire.
    Unused,
    /// Not about data (operations, servers, security).
    Api,
}

impl Direction {
    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Request => "request",
            Direction::Response => "response",
            Direction::Both => "both",
            Direction::Unused => "unused",
            Direction::Api => "api",
        }
    }

    /// The union of two usages.
    pub fn union(self, other: Direction) -> Direction {
        use Direction::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Unused, x) | (x, Unused) => x,
            (Api, x) | (x, Api) => x,
            _ => Both,
        }
    }

    /// The other way round (for merchant-served operations: the crate receives their requests).
    pub fn flipped(self) -> Direction {
        match self {
            Direction::Request => Direction::Response,
            Direction::Response => Direction::Request,
            other => other,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

macro_rules! kinds {
    ($($(#[doc = $doc:literal])+ $variant:ident => $name:literal, mirror $mirror:ident;)+) => {
        /// Every kind of change the diff reports. Kinds with data-dependent meaning are split
        /// (`property-added-required` / `property-added-optional`) so each has one row in the
        /// rules table.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Kind {
            $($(#[doc = $doc])+ $variant,)+
        }

        impl Kind {
            /// Every kind, in table order.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant,)+];

            /// The stable kebab-case name used in reports.
            pub fn name(self) -> &'static str {
                match self {
                    $(Kind::$variant => $name,)+
                }
            }

            /// The kind the same change has when the two documents are swapped.
            pub fn mirror(self) -> Kind {
                match self {
                    $(Kind::$variant => Kind::$mirror,)+
                }
            }

            /// One-line meaning (for the rules table).
            pub fn meaning(self) -> &'static str {
                match self {
                    $(Kind::$variant => concat!($($doc),+).trim_start(),)+
                }
            }
        }
    };
}

kinds! {
    /// A server (scheme and host) was added.
    ServerAdded => "server-added", mirror ServerRemoved;
    /// A server (scheme and host) was removed.
    ServerRemoved => "server-removed", mirror ServerAdded;
    /// A server kept its URL but moved in the list (environments of the client map to positions).
    ServerMoved => "server-moved", mirror ServerMoved;
    /// The path part of the servers changed (operations are paired by their full path).
    BasePathChanged => "base-path-changed", mirror BasePathChanged;
    /// A security scheme was defined.
    SecuritySchemeAdded => "security-scheme-added", mirror SecuritySchemeRemoved;
    /// A security scheme definition was removed.
    SecuritySchemeRemoved => "security-scheme-removed", mirror SecuritySchemeAdded;
    /// A security scheme's type, location or parameter name changed.
    SecuritySchemeChanged => "security-scheme-changed", mirror SecuritySchemeChanged;
    /// Fewer credentials are accepted (e.g. some are now required where none were).
    SecurityRequirementAdded => "security-requirement-added", mirror SecurityRequirementRemoved;
    /// More credentials are accepted (e.g. none are required any more).
    SecurityRequirementRemoved => "security-requirement-removed", mirror SecurityRequirementAdded;
    /// Other credentials are required (neither list contains the other).
    SecurityRequirementChanged => "security-requirement-changed", mirror SecurityRequirementChanged;
    /// An operation (or callback) was added.
    OperationAdded => "operation-added", mirror OperationRemoved;
    /// An operation (or callback) was removed.
    OperationRemoved => "operation-removed", mirror OperationAdded;
    /// The operationId changed, so the Rust method is renamed.
    OperationRenamed => "operation-renamed", mirror OperationRenamed;
    /// The operation (same operationId) moved to another path or method.
    OperationPathChanged => "operation-path-changed", mirror OperationPathChanged;
    /// A path parameter was renamed (its position is unchanged).
    PathParameterRenamed => "path-parameter-renamed", mirror PathParameterRenamed;
    /// A required parameter (a method argument) was added.
    ParameterAddedRequired => "parameter-added-required", mirror RequiredParameterRemoved;
    /// An optional parameter was added.
    ParameterAddedOptional => "parameter-added-optional", mirror OptionalParameterRemoved;
    /// A required parameter was removed.
    RequiredParameterRemoved => "required-parameter-removed", mirror ParameterAddedRequired;
    /// An optional parameter was removed.
    OptionalParameterRemoved => "optional-parameter-removed", mirror ParameterAddedOptional;
    /// An optional parameter became required.
    ParameterBecameRequired => "parameter-became-required", mirror ParameterBecameOptional;
    /// A required parameter became optional.
    ParameterBecameOptional => "parameter-became-optional", mirror ParameterBecameRequired;
    /// A required header the runtime fills (settings header roles) was added.
    ManagedHeaderAddedRequired => "managed-header-added-required", mirror RequiredManagedHeaderRemoved;
    /// An optional header the runtime fills was added.
    ManagedHeaderAddedOptional => "managed-header-added-optional", mirror OptionalManagedHeaderRemoved;
    /// A required header the runtime fills was removed.
    RequiredManagedHeaderRemoved => "required-managed-header-removed", mirror ManagedHeaderAddedRequired;
    /// An optional header the runtime fills was removed.
    OptionalManagedHeaderRemoved => "optional-managed-header-removed", mirror ManagedHeaderAddedOptional;
    /// A header the runtime fills became required.
    ManagedHeaderBecameRequired => "managed-header-became-required", mirror ManagedHeaderBecameOptional;
    /// A header the runtime fills became optional.
    ManagedHeaderBecameOptional => "managed-header-became-optional", mirror ManagedHeaderBecameRequired;
    /// A parameter's style, explode or allowReserved changed.
    ParameterSerializationChanged => "parameter-serialization-changed", mirror ParameterSerializationChanged;
    /// A required request body was added.
    RequestBodyAddedRequired => "request-body-added-required", mirror RequiredRequestBodyRemoved;
    /// An optional request body was added.
    RequestBodyAddedOptional => "request-body-added-optional", mirror OptionalRequestBodyRemoved;
    /// A required request body was removed.
    RequiredRequestBodyRemoved => "required-request-body-removed", mirror RequestBodyAddedRequired;
    /// An optional request body was removed.
    OptionalRequestBodyRemoved => "optional-request-body-removed", mirror RequestBodyAddedOptional;
    /// The request body became required.
    RequestBodyBecameRequired => "request-body-became-required", mirror RequestBodyBecameOptional;
    /// The request body became optional.
    RequestBodyBecameOptional => "request-body-became-optional", mirror RequestBodyBecameRequired;
    /// A media type (compared by essence) was added to a body.
    ContentTypeAdded => "content-type-added", mirror ContentTypeRemoved;
    /// A media type was removed from a body.
    ContentTypeRemoved => "content-type-removed", mirror ContentTypeAdded;
    /// A 2XX status was documented.
    SuccessResponseAdded => "success-response-added", mirror SuccessResponseRemoved;
    /// A 2XX status is no longer documented.
    SuccessResponseRemoved => "success-response-removed", mirror SuccessResponseAdded;
    /// A non-2XX status (or default) was documented.
    ErrorResponseAdded => "error-response-added", mirror ErrorResponseRemoved;
    /// A non-2XX status (or default) is no longer documented.
    ErrorResponseRemoved => "error-response-removed", mirror ErrorResponseAdded;
    /// A response header was documented (the crate does not expose response headers).
    ResponseHeaderAdded => "response-header-added", mirror ResponseHeaderRemoved;
    /// A response header is no longer documented.
    ResponseHeaderRemoved => "response-header-removed", mirror ResponseHeaderAdded;
    /// A response header's schema or required-ness changed.
    ResponseHeaderChanged => "response-header-changed", mirror ResponseHeaderChanged;
    /// A component schema (a public type) was added.
    SchemaAdded => "schema-added", mirror SchemaRemoved;
    /// A component schema (a public type) was removed.
    SchemaRemoved => "schema-removed", mirror SchemaAdded;
    /// A component schema was renamed with identical contents.
    SchemaRenamed => "schema-renamed", mirror SchemaRenamed;
    /// A required property was added.
    PropertyAddedRequired => "property-added-required", mirror RequiredPropertyRemoved;
    /// An optional property was added.
    PropertyAddedOptional => "property-added-optional", mirror OptionalPropertyRemoved;
    /// A required property was removed.
    RequiredPropertyRemoved => "required-property-removed", mirror PropertyAddedRequired;
    /// An optional property was removed.
    OptionalPropertyRemoved => "optional-property-removed", mirror PropertyAddedOptional;
    /// An optional property became required.
    PropertyBecameRequired => "property-became-required", mirror PropertyBecameOptional;
    /// A required property became optional.
    PropertyBecameOptional => "property-became-optional", mirror PropertyBecameRequired;
    /// A required property may now be null.
    PropertyBecameNullable => "property-became-nullable", mirror PropertyBecameNonNullable;
    /// A required property may no longer be null.
    PropertyBecameNonNullable => "property-became-non-nullable", mirror PropertyBecameNullable;
    /// An optional property's nullability changed (null already reads as absent).
    OptionalPropertyNullabilityChanged => "optional-property-nullability-changed", mirror OptionalPropertyNullabilityChanged;
    /// A value that is not a property (an item, a body) may now be null.
    NullableAdded => "nullable-added", mirror NullableRemoved;
    /// A value that is not a property may no longer be null.
    NullableRemoved => "nullable-removed", mirror NullableAdded;
    /// The JSON type changed (string, integer, object...).
    TypeChanged => "type-changed", mirror TypeChanged;
    /// A format was added or narrowed (int64 -> int32).
    FormatTightened => "format-tightened", mirror FormatLoosened;
    /// A format was removed or widened (int32 -> int64).
    FormatLoosened => "format-loosened", mirror FormatTightened;
    /// A format was replaced by an unrelated one.
    FormatChanged => "format-changed", mirror FormatChanged;
    /// The Rust type users see at this place changed (a rename, a new newtype, another primitive).
    RustTypeChanged => "rust-type-changed", mirror RustTypeChanged;
    /// An enum value was added.
    EnumValueAdded => "enum-value-added", mirror EnumValueRemoved;
    /// An enum value was removed.
    EnumValueRemoved => "enum-value-removed", mirror EnumValueAdded;
    /// A free value became an enum.
    EnumRestricted => "enum-restricted", mirror EnumLifted;
    /// An enum became a free value.
    EnumLifted => "enum-lifted", mirror EnumRestricted;
    /// A oneOf/anyOf branch was added.
    UnionVariantAdded => "union-variant-added", mirror UnionVariantRemoved;
    /// A oneOf/anyOf branch was removed.
    UnionVariantRemoved => "union-variant-removed", mirror UnionVariantAdded;
    /// The discriminator property or its mapping changed.
    DiscriminatorChanged => "discriminator-changed", mirror DiscriminatorChanged;
    /// A constraint accepts fewer values (pattern added, maxLength lowered, additionalProperties false...).
    ConstraintTightened => "constraint-tightened", mirror ConstraintLoosened;
    /// A constraint accepts more values.
    ConstraintLoosened => "constraint-loosened", mirror ConstraintTightened;
    /// A constraint changed in a way that is neither (a different pattern or multipleOf).
    ConstraintChanged => "constraint-changed", mirror ConstraintChanged;
    /// A `default` value changed.
    DefaultChanged => "default-changed", mirror DefaultChanged;
    /// A `default` value was added where there was none.
    DefaultAdded => "default-added", mirror DefaultRemoved;
    /// A `default` value was removed.
    DefaultRemoved => "default-removed", mirror DefaultAdded;
    /// Something was marked deprecated.
    DeprecatedAdded => "deprecated-added", mirror DeprecatedRemoved;
    /// Something is no longer deprecated.
    DeprecatedRemoved => "deprecated-removed", mirror DeprecatedAdded;
    /// A description, summary, title, example, tag, info field or extension changed.
    DocumentationChanged => "documentation-changed", mirror DocumentationChanged;
    /// A keyword the diff does not understand changed: review it by hand.
    KeywordChanged => "keyword-changed", mirror KeywordChanged;
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}
