//! The intermediate representation: plain data, no syn types, every naming and shape decision
//! already made. Emit stages only translate it to tokens.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::Warning;

/// One API (one spec document) lowered.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Api {
    /// Rust module the code goes into.
    pub module: String,
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    /// `servers`, in document order.
    pub servers: Vec<Server>,
    /// Named types by Rust name (sorted, so output order never depends on discovery order).
    pub types: BTreeMap<String, TypeDef>,
    /// Names of inline schemas that repeat a type of `types`, sorted by name; each is emitted as a
    /// re-export of that type, and every use of the schema names that type.
    pub repeated: Vec<RepeatedType>,
    /// Names of `types` that are defined once for the crate in its common module (the crate-level
    /// pass `lower::common` decides); the models module re-exports them instead.
    pub common: BTreeSet<String>,
    /// Operations in document order of their paths.
    pub operations: Vec<Operation>,
    /// JSON pointer of every schema site that was lowered -> its Rust type; used to find the type
    /// of an example and by the spec diff.
    pub schema_index: BTreeMap<String, TypeRef>,
    /// Spec defects found while lowering.
    pub warnings: Vec<Warning>,
    /// The proptest strategies to generate.
    pub strategies: StrategyPlan,
}

/// Types that several documents of one crate define alike, emitted once in the crate's common
/// module (`layout::COMMON_MODULE`) and re-exported by the models module of each.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CommonTypes {
    /// By Rust name.
    pub types: BTreeMap<String, CommonType>,
}

/// One type of [`CommonTypes`].
#[derive(Debug, Clone, PartialEq)]
pub struct CommonType {
    /// The definition, as the first module that has it lowered it.
    pub def: TypeDef,
    /// The modules that re-export it, in settings order.
    pub modules: Vec<String>,
}

/// An inline schema with the same name and definition as an earlier one: the same type, kept
/// under its own name so paths that named it still compile.
#[derive(Debug, Clone, PartialEq)]
pub struct RepeatedType {
    /// The name the schema would have had (`VippsSystemName2`).
    pub name: String,
    /// The type it is (`VippsSystemName`).
    pub same_as: String,
    /// JSON pointer of the repeating schema.
    pub origin: String,
}

/// A `servers` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// Base URL.
    pub url: String,
    /// Its description.
    pub description: Option<String>,
}

/// A named Rust type.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeDef {
    /// Rust name (PascalCase, unique in the module).
    pub name: String,
    /// JSON pointer of the schema it came from.
    pub origin: String,
    /// Rustdoc text.
    pub doc: Option<String>,
    /// `deprecated: true`.
    pub deprecated: bool,
    /// What it is.
    pub kind: TypeKind,
}

/// The kinds of named type.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeKind {
    /// An object with known properties.
    Struct(StructDef),
    /// A string enum, forward compatible.
    Enum(EnumDef),
    /// A `oneOf`.
    Union(UnionDef),
    /// `additionalProperties` with count limits.
    Map(MapDef),
    /// A value with constraints checked on construction and deserialization.
    Newtype(NewtypeDef),
    /// A plain other name for a type.
    Alias(TypeRef),
}

/// A struct.
#[derive(Debug, Clone, PartialEq)]
pub struct StructDef {
    /// Fields in document order.
    pub fields: Vec<Field>,
    /// Members the schema does not list are kept here (RFC 7807 problem bodies allow extensions).
    pub extra: Option<ExtraField>,
}

/// The catch-all field of a struct that keeps unknown members.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtraField {
    /// Rust field name.
    pub name: String,
    /// Type of the values.
    pub value: TypeRef,
}

/// Whether a property must be present and whether it may be null.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Must be present, never null.
    Required,
    /// Must be present, may be null: `Option<T>`, always serialized.
    RequiredNullable,
    /// May be absent (or null when nullable): `Option<T>`, skipped when `None`.
    Optional,
}

/// A struct field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Rust name (snake_case, keywords escaped with `r#`-free suffixes).
    pub name: String,
    /// JSON name.
    pub wire_name: String,
    /// Type, without the `Option` that `presence` adds.
    pub ty: TypeRef,
    /// Presence rule.
    pub presence: Presence,
    /// Box the type to break a containment cycle.
    pub boxed: bool,
    /// Rustdoc text.
    pub doc: Option<String>,
    /// `deprecated: true`.
    pub deprecated: bool,
    /// The schema's `default`, as JSON.
    pub default: Option<serde_json::Value>,
    /// JSON pointer of the property schema.
    pub origin: String,
    /// Name of the builder method that sets this (optional) field.
    pub setter: String,
    /// Name of the accessor that applies the spec default.
    pub default_accessor: String,
    /// A credential (its name is in the settings' `secret_properties`): `Debug` shows it
    /// redacted.
    pub secret: bool,
    /// A plain `String` that holds a URI (`format: uri`, `url`, `uri-reference`): unchecked by
    /// the type (custom schemes are common), but its strategies make URIs.
    pub uri: bool,
}

/// A string enum.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumDef {
    /// Known values.
    pub variants: Vec<Variant>,
    /// Name of the variant that holds values the spec does not list.
    pub unknown_variant: String,
    /// Index of the default variant.
    pub default: Option<usize>,
}

/// One enum value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// Rust name.
    pub name: String,
    /// The value on the wire.
    pub wire: String,
}

/// How a union's branch is picked when reading JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnionStrategy {
    /// By the value of a discriminator property.
    Discriminator {
        /// The property.
        property: String,
    },
    /// By which (disjoint) property names are present; exactly one branch may match.
    ByProperty,
    /// First branch that parses (ambiguous; warned about).
    Untagged,
}

/// A `oneOf`.
#[derive(Debug, Clone, PartialEq)]
pub struct UnionDef {
    /// How branches are told apart.
    pub strategy: UnionStrategy,
    /// Branches in document order.
    pub variants: Vec<UnionVariant>,
    /// Shortcuts that build a one-field branch from that field's value, in branch order.
    pub constructors: Vec<BranchConstructor>,
}

/// `Union::<field>(value)`: builds the branch whose struct has just that one field
/// (`Customer::phone_number("4791234567")`).
#[derive(Debug, Clone, PartialEq)]
pub struct BranchConstructor {
    /// The method's name (the field's Rust name).
    pub name: String,
    /// The union variant it makes.
    pub variant: String,
    /// The branch's struct.
    pub branch: String,
    /// The field's type.
    pub field_ty: TypeRef,
    /// Whether the field is optional in the branch (then `default()` and its setter build it;
    /// else `new`).
    pub optional: bool,
    /// The field's setter (optional fields).
    pub setter: String,
    /// The field's wire name (for the doc line).
    pub wire_name: String,
}

/// One branch of a union.
#[derive(Debug, Clone, PartialEq)]
pub struct UnionVariant {
    /// Rust variant name.
    pub name: String,
    /// Its payload type.
    pub ty: TypeRef,
    /// The branch's property names (ByProperty).
    pub properties: Vec<String>,
    /// Discriminator values that select it (Discriminator).
    pub tags: Vec<String>,
    /// Box the payload to break a containment cycle.
    pub boxed: bool,
}

/// A map with count limits.
#[derive(Debug, Clone, PartialEq)]
pub struct MapDef {
    /// Value type.
    pub value: TypeRef,
    /// `minProperties`.
    pub min_properties: Option<usize>,
    /// `maxProperties`.
    pub max_properties: Option<usize>,
}

/// A numeric bound as written in the spec.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// For integer types.
    Int(i64),
    /// For number types.
    Float(f64),
}

/// Constraints a newtype checks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rules {
    /// `pattern` (ECMA syntax as written; must compile with the regex crate).
    pub pattern: Option<String>,
    /// `minLength` in characters.
    pub min_length: Option<usize>,
    /// `maxLength` in characters.
    pub max_length: Option<usize>,
    /// `minimum`, and whether it is exclusive.
    pub minimum: Option<(Number, bool)>,
    /// `maximum`, and whether it is exclusive.
    pub maximum: Option<(Number, bool)>,
    /// `minItems`.
    pub min_items: Option<usize>,
    /// `maxItems`.
    pub max_items: Option<usize>,
}

/// A validated newtype.
#[derive(Debug, Clone, PartialEq)]
pub struct NewtypeDef {
    /// The wrapped type (a primitive or a `Vec`).
    pub inner: TypeRef,
    /// What is checked.
    pub rules: Rules,
}

/// A use of a type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TypeRef {
    /// A named type of this module.
    Named(String),
    /// `String`.
    String,
    /// `bool`.
    Bool,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `chrono::DateTime<chrono::Utc>`.
    DateTime,
    /// `chrono::NaiveDate`.
    Date,
    /// `uuid::Uuid`.
    Uuid,
    /// Any JSON (`serde_json::Value`).
    Json,
    /// `Vec<T>`.
    Vec(Box<TypeRef>),
    /// `BTreeMap<String, T>`.
    Map(Box<TypeRef>),
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ParamLocation {
    /// In the path template.
    Path,
    /// In the query string.
    Query,
    /// An HTTP header.
    Header,
    /// A cookie.
    Cookie,
}

/// What the runtime does with a header parameter (from the settings' header names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HeaderRole {
    /// The access token; filled by the auth layer.
    Authorization,
    /// Filled from the credentials.
    SubscriptionKey,
    /// Filled from the configuration.
    MerchantSerialNumber,
    /// Taken from the caller or made fresh per logical call.
    IdempotencyKey,
    /// Optional system-identification header filled from the configuration.
    System,
    /// The client id of the access-token call, filled from the credentials.
    ClientId,
    /// The client secret of the access-token call, filled from the credentials.
    ClientSecret,
    /// An ordinary parameter: an argument of the method.
    Plain,
}

/// An operation parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Name on the wire.
    pub wire_name: String,
    /// Rust argument name.
    pub name: String,
    /// Where it goes.
    pub location: ParamLocation,
    /// `required`.
    pub required: bool,
    /// Its type.
    pub ty: TypeRef,
    /// Role (headers only; `Plain` elsewhere).
    pub role: HeaderRole,
    /// `maxLength` of a string header (system headers are validated against it).
    pub max_length: Option<usize>,
    /// How the value is written.
    pub encoding: ParamEncoding,
    /// An array held in a validated newtype: its items are read with `as_slice()`.
    pub via_slice: bool,
    /// The value (or each item) is a date-time, written as RFC 3339 (not chrono's `Display`).
    pub rfc3339: bool,
    /// A credential the caller fills (a security scheme the runtime cannot): sent as a
    /// sensitive header, and kept out of error messages.
    pub credential: bool,
}

/// How a parameter's value becomes text on the wire (its `style`/`explode`, or `content`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamEncoding {
    /// The value's `Display` (scalars, string enums, validated newtypes).
    Text,
    /// An array as one entry per item (`form` style, exploded: `?k=a&k=b`).
    Exploded,
    /// An array as one comma-separated value (`simple`, or `form` not exploded).
    Joined,
    /// The value as JSON text (`content: application/json`, or a shape no style fits).
    Json,
}

/// A request body.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestBody {
    /// Its type (for `Raw`, the documented schema's, which the bytes are meant to hold).
    pub ty: TypeRef,
    /// `required`.
    pub required: bool,
    /// Media type essence (`application/json`).
    pub media_type: String,
    /// How the body goes on the wire.
    pub encoding: BodyEncoding,
}

/// How a request body is sent, from its media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyEncoding {
    /// JSON (`application/json`, `*+json`): the typed value, serialized.
    Json,
    /// `application/x-www-form-urlencoded`: the typed value's members as form fields.
    Form,
    /// Anything else (binary, images, text, multipart): bytes the caller encodes, sent with
    /// the documented media type.
    Raw,
}

/// Which statuses a response covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StatusMatch {
    /// One code.
    Code(u16),
    /// `2XX` and the like.
    Range(u16),
    /// `default`.
    Default,
}

/// A documented response.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// Which statuses.
    pub status: StatusMatch,
    /// Media type essence, when there is a body.
    pub media_type: Option<String>,
    /// Body type, when there is a body.
    pub ty: Option<TypeRef>,
}

/// An operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// `operationId`.
    pub id: String,
    /// Rust method name.
    pub fn_name: String,
    /// HTTP method, upper case.
    pub method: String,
    /// Path template as in the spec (`/v1/payments/{Reference}`).
    pub path: String,
    /// Rustdoc text.
    pub doc: Option<String>,
    /// `deprecated: true`.
    pub deprecated: bool,
    /// Parameters (path, operation-level over path-level).
    pub params: Vec<Param>,
    /// Request body.
    pub body: Option<RequestBody>,
    /// Documented responses, by status.
    pub responses: Vec<Response>,
    /// Served by the merchant (a callback): types only, no client method.
    pub merchant_served: bool,
    /// Needs the access token (security requirements present).
    pub authenticated: bool,
    /// Exists only in the test environment (tagged with a settings `test_only_tags` tag).
    pub test_only: bool,
    /// Sending it twice has no effect beyond sending it once (GET, HEAD, OPTIONS, and the
    /// settings' token operation), so the runtime may retry it without an idempotency key.
    pub repeatable: bool,
    /// JSON pointer of the operation.
    pub origin: String,
    /// The shape of its client method (`lower/method.rs`).
    pub method_plan: MethodPlan,
}

/// How one operation's client method is shaped, decided in lowering (`lower/method.rs`); emit
/// only translates it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MethodPlan {
    /// Indices into `Operation::params` of the method's arguments, in order: path parameters in
    /// template order, then the other argument parameters, required before optional.
    pub arguments: Vec<usize>,
    /// Names of the method body's locals, clear of every argument name.
    pub locals: MethodLocals,
    /// What a success returns.
    pub success: Success,
    /// The arms of the method's `match` on the response status, in order.
    pub arms: Vec<ResponseArm>,
}

/// Names of a method body's locals.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MethodLocals {
    /// The request being built.
    pub request: String,
    /// The response.
    pub response: String,
    /// The success value.
    pub value: String,
    /// The idempotency key sent.
    pub idempotency_key: String,
}

/// What an operation's success returns.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Success {
    /// Nothing: no documented 2xx response has a body (or none is documented).
    #[default]
    Unit,
    /// The body of the one documented 2xx response.
    Body(TypeRef),
    /// An enum with a variant per documented 2xx response (`<Operation>Outcome`).
    Outcome {
        /// The enum's name.
        name: String,
        /// Its variants, in document order.
        variants: Vec<OutcomeVariant>,
    },
}

/// One variant of an outcome enum.
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeVariant {
    /// Variant name (`Ok`, `Created`, `Status299`, `Other2xx`).
    pub name: String,
    /// The status it stands for.
    pub status: StatusMatch,
    /// Its body, when the response has one.
    pub body: Option<TypeRef>,
}

/// One arm of a method's status `match`: the statuses it matches (`Range(2)` is any 2xx,
/// `Default` anything) and what it does.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseArm {
    /// Statuses joined with `|`.
    pub statuses: Vec<StatusMatch>,
    /// What the arm does.
    pub action: ArmAction,
}

/// What a response arm does.
#[derive(Debug, Clone, PartialEq)]
pub enum ArmAction {
    /// The success value: the body decoded from its media type (or none), in the outcome
    /// variant of that name when the success is an outcome enum.
    Success {
        /// Body type and media type essence.
        body: Option<(TypeRef, String)>,
        /// Outcome variant.
        variant: Option<String>,
    },
    /// A documented error with a body: the runtime's typed error.
    ErrorBody(TypeRef, String),
    /// An error status without a body; `documented` when the document lists it.
    ErrorStatus {
        /// Whether the document lists the status.
        documented: bool,
    },
}

/// What the crate's glue hands the runtime, decided from the settings and every lowered API
/// (`lower::glue::plan`); `emit::glue` only translates it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GluePlan {
    /// The generated type that checks a merchant serial number: (module, type), the first
    /// validated header type with the merchant-serial-number role.
    pub merchant_check: Option<(String, String)>,
    /// The access-token operation and where its answer holds the token.
    pub token: Option<TokenPlan>,
    /// Whether an operation the client calls sends the subscription key.
    pub uses_subscription_key: bool,
}

/// The settings' token operation, found in one API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPlan {
    /// The client module that has it.
    pub client_module: String,
    /// Its method.
    pub fn_name: String,
    /// Its `OperationInfo` static.
    pub static_name: String,
    /// The answer's field holding the token.
    pub access_token: FieldRead,
    /// Seconds from now, when the answer has it.
    pub expires_in: Option<FieldRead>,
    /// Unix time, when the answer has it.
    pub expires_on: Option<FieldRead>,
}

/// A field of the token answer and whether it is an `Option`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRead {
    /// Rust field name.
    pub name: String,
    /// Held as `Option<T>`.
    pub optional: bool,
}

/// What gets a proptest strategy, under which names, and how each request body's broken values
/// are built (`lower/strategies.rs`); `emit/strategies.rs` only translates it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StrategyPlan {
    /// Types with a valid strategy, sorted.
    pub types: Vec<String>,
    /// Types a client-side operation sends that get none: they contain themselves (a cycle,
    /// through lists and maps too) or a type that does.
    pub skipped: BTreeSet<String>,
    /// Type -> strategy function name.
    pub fn_names: BTreeMap<String, String>,
    /// Strategy function name of a repeated type (`Api::repeated`) -> the function it re-exports.
    pub repeated: BTreeMap<String, String>,
    /// (union, variant index) -> the strategy of a branch that fixes some of its fields.
    pub branches: BTreeMap<(String, usize), BranchStrategy>,
    /// Request bodies with broken strategies, in operation order.
    pub bodies: Vec<BodyStrategy>,
}

/// The strategy of a union branch that fixes the fields selecting it.
#[derive(Debug, Clone, PartialEq)]
pub struct BranchStrategy {
    /// Function name.
    pub fn_name: String,
    /// The branch's struct (aliases followed).
    pub struct_name: String,
    /// Fixed fields, by wire name.
    pub forced: BTreeMap<String, Forced>,
}

/// How a struct field's value is fixed when the struct is a union branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forced {
    /// Always present (a property that selects the branch).
    Present,
    /// Always this discriminator tag.
    Tag(String),
}

/// A request body type, the operations that send it, and its constraint sites.
#[derive(Debug, Clone, PartialEq)]
pub struct BodyStrategy {
    /// The body type.
    pub type_name: String,
    /// `operationId`s sending it.
    pub operations: Vec<String>,
    /// Name of the const listing its sites.
    pub sites_const: String,
    /// Name of its broken-strategies function.
    pub broken_fn: String,
    /// Every site, in document order.
    pub sites: Vec<SitePlan>,
}

/// A constraint site of a body: the pointer below the body, the rule, whether the generated
/// types refuse a value breaking it, and how such a body is built (steps outermost first, then
/// the leaf that breaks the rule).
#[derive(Debug, Clone, PartialEq)]
pub struct SitePlan {
    /// JSON pointer below the body.
    pub pointer: String,
    /// JSON Schema keyword of the rule.
    pub rule: &'static str,
    /// Whether the generated types refuse it.
    pub typed_rejects: bool,
    /// Steps from the body down to the broken value.
    pub steps: Vec<SiteStep>,
    /// What breaks the rule.
    pub leaf: SiteLeaf,
}

/// A valid JSON value a broken body is built on: a type's own strategy, or a union branch's.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SiteBase {
    /// Valid values of the type.
    Type(TypeRef),
    /// Valid values of the union's variant (union name, variant index).
    Branch(String, usize),
}

/// One step from a valid value (the base) down to the member a site sits in.
#[derive(Debug, Clone, PartialEq)]
pub enum SiteStep {
    /// The member of that name.
    Member(SiteBase, String),
    /// The first item of a list.
    FirstItem(SiteBase),
    /// The entry of that key of a map, whose size is capped at `maxProperties`.
    Entry(SiteBase, String, Option<usize>),
}

/// What breaks a rule at the end of a site's steps.
#[derive(Debug, Clone, PartialEq)]
pub enum SiteLeaf {
    /// A valid value of the base without the member.
    Missing(SiteBase, String),
    /// A JSON value of another type than the one named.
    WrongType(&'static str),
    /// A string the enum does not list.
    NotListed(Vec<String>),
    /// A string within the length bounds that does not match the pattern.
    NotMatching {
        /// The pattern.
        pattern: String,
        /// `minLength` (0 without one).
        min: usize,
        /// `maxLength`.
        max: Option<usize>,
    },
    /// Shorter than `minLength`.
    ShorterThan(usize),
    /// Longer than `maxLength`.
    LongerThan(usize),
    /// An integer below the minimum; `floor` is the type's lowest value.
    IntBelow {
        /// The bound.
        limit: i64,
        /// `exclusiveMinimum`.
        exclusive: bool,
        /// Lowest value of the integer type.
        floor: i64,
    },
    /// An integer above the maximum; `ceiling` is the type's highest value.
    IntAbove {
        /// The bound.
        limit: i64,
        /// `exclusiveMaximum`.
        exclusive: bool,
        /// Highest value of the integer type.
        ceiling: i64,
    },
    /// A number below the minimum.
    FloatBelow {
        /// The bound.
        limit: f64,
        /// `exclusiveMinimum`.
        exclusive: bool,
    },
    /// A number above the maximum.
    FloatAbove {
        /// The bound.
        limit: f64,
        /// `exclusiveMaximum`.
        exclusive: bool,
    },
    /// A string that is not an RFC 3339 date-time.
    NotADateTime,
    /// A list of valid items of the base, with a length in `min..=max` (outside the rule).
    ArrayOf(SiteBase, usize, usize),
    /// A map of valid values of the base, with a size in `min..=max` (outside the rule).
    ObjectOf(SiteBase, usize, usize),
    /// An object with the properties of two branches.
    NotOneBranch(SiteBase, SiteBase),
}
