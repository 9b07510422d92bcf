//! THE classification table: change kind x direction -> (semver for the crate's users, wire).
//!
//! One row per [`Kind`], in the order of `Kind::ALL`. The request column applies where the crate
//! sends the data (and to operation-level kinds), the response column where it receives it (for
//! parameters and bodies of merchant-served operations, the crate is the receiver). A schema used
//! both ways gets the worse of the two on each axis; a schema no operation reaches gets the worse
//! semver and never breaks the wire.
//!
//! What the semver column relies on (see docs/spec-evolution.md): generated structs and enums are
//! `#[non_exhaustive]` (built with `new` and the `with_*` setters, matched with a wildcard), so a
//! new optional field, enum value or union branch is minor; string enums keep an `Unknown(String)`
//! variant, so a new value never breaks reading; client methods take their arguments positionally,
//! so any new argument is major; a change that makes the new crate refuse values the old crate
//! accepted is major, because callers' running code breaks; a change of
//! the Rust type at a place is reported on its own as `rust-type-changed` (major), so the
//! spec-level kinds beside it (format, enum, constraint) only carry their wire effect.

use super::change::{Direction, Kind, Semver, Wire};

/// A classification: how a change affects users and the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Class {
    /// For the generated crate's users.
    pub semver: Semver,
    /// For an old client against a new server.
    pub wire: Wire,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The kind.
    pub kind: Kind,
    /// Where the crate sends the data.
    pub request: Class,
    /// Where the crate receives the data.
    pub response: Class,
    /// Why, in a few words.
    pub why: &'static str,
    /// What cargo-semver-checks finds for this rule's fixture item (`xtask/tests/semver`):
    /// `none`, or the bump and its lints. Checked by `xtask/tests/semver.rs`.
    pub semver_checks: &'static str,
}

const fn c(semver: Semver, wire: Wire) -> Class {
    Class { semver, wire }
}

const fn rule(kind: Kind, request: Class, response: Class, why: &'static str, semver_checks: &'static str) -> Rule {
    Rule { kind, request, response, why, semver_checks }
}

use Semver::{Major, Minor, Patch};
use Wire::{Breaking as B, Compatible as C};

/// The table (order = `Kind::ALL`; checked by a test). Every row whose wire column says
/// breaking has at least a minor semver class: a release that changes what the server does for
/// old clients is never shipped as a patch.
pub const RULES: &[Rule] = &[
    rule(Kind::ServerAdded, c(Minor, C), c(Minor, C), "a new base URL to choose", "none"),
    rule(Kind::ServerRemoved, c(Major, B), c(Major, B), "its constant goes; clients pointed at it fail", "none"),
    rule(Kind::ServerMoved, c(Major, C), c(Major, C), "an environment that names its position now means another server", "none"),
    rule(Kind::BasePathChanged, c(Major, C), c(Major, C), "full URLs are unchanged, but a custom base URL must now include the new base path", "none"),
    rule(Kind::SecuritySchemeAdded, c(Patch, C), c(Patch, C), "a definition only; requirements are reported on their own", "none"),
    rule(Kind::SecuritySchemeRemoved, c(Patch, C), c(Patch, C), "a definition only; requirements are reported on their own", "none"),
    rule(Kind::SecuritySchemeChanged, c(Major, B), c(Major, B), "credentials go elsewhere", "none"),
    rule(Kind::SecurityRequirementAdded, c(Minor, B), c(Minor, B), "the old client sends no credentials", "none"),
    rule(Kind::SecurityRequirementRemoved, c(Patch, C), c(Patch, C), "extra credentials are ignored", "none"),
    rule(Kind::SecurityRequirementChanged, c(Major, B), c(Major, B), "the old credentials are not accepted; one the runtime cannot fill becomes an argument", "major: method_parameter_count_changed"),
    rule(Kind::OperationAdded, c(Minor, C), c(Minor, C), "a new method", "none"),
    rule(Kind::OperationRemoved, c(Major, B), c(Major, B), "the method goes; the server no longer answers", "major: inherent_method_missing"),
    rule(Kind::OperationRenamed, c(Major, C), c(Major, C), "the Rust method is renamed; the wire is the same", "major: inherent_method_missing"),
    rule(Kind::OperationPathChanged, c(Minor, B), c(Minor, B), "same method, but the old client calls the old URL", "none"),
    rule(Kind::PathParameterRenamed, c(Patch, C), c(Patch, C), "arguments are positional; the URL is the same", "none"),
    rule(Kind::ParameterAddedRequired, c(Major, B), c(Patch, C), "a new argument; the old client does not send it", "major: method_parameter_count_changed"),
    rule(Kind::ParameterAddedOptional, c(Major, C), c(Patch, C), "a new `Option` argument: the method's signature changes", "major: method_parameter_count_changed"),
    rule(Kind::RequiredParameterRemoved, c(Major, C), c(Minor, B), "the argument goes; servers ignore parameters they do not know", "major: method_parameter_count_changed"),
    rule(Kind::OptionalParameterRemoved, c(Major, C), c(Patch, C), "the argument goes; servers ignore parameters they do not know", "major: method_parameter_count_changed"),
    rule(Kind::ParameterBecameRequired, c(Major, B), c(Patch, C), "T instead of Option<T>; the old client may omit it", "none"),
    rule(Kind::ParameterBecameOptional, c(Major, C), c(Minor, B), "Option<T> instead of T", "none"),
    rule(Kind::ManagedHeaderAddedRequired, c(Minor, B), c(Patch, C), "no new argument (the runtime fills it), but the old client does not send it", "none"),
    rule(Kind::ManagedHeaderAddedOptional, c(Patch, C), c(Patch, C), "the runtime fills it", "none"),
    rule(Kind::RequiredManagedHeaderRemoved, c(Patch, C), c(Minor, B), "the runtime stops sending it", "none"),
    rule(Kind::OptionalManagedHeaderRemoved, c(Patch, C), c(Patch, C), "the runtime stops sending it", "none"),
    rule(Kind::ManagedHeaderBecameRequired, c(Minor, B), c(Patch, C), "the old client may omit it", "none"),
    rule(Kind::ManagedHeaderBecameOptional, c(Patch, C), c(Minor, B), "the runtime fills it", "none"),
    rule(Kind::ParameterSerializationChanged, c(Minor, B), c(Minor, B), "the same value is written differently", "none"),
    rule(Kind::RequestBodyAddedRequired, c(Major, B), c(Minor, C), "a new argument; the old client sends no body", "major: method_parameter_count_changed"),
    rule(Kind::RequestBodyAddedOptional, c(Major, C), c(Minor, C), "a new `Option` argument: the method's signature changes", "major: method_parameter_count_changed"),
    rule(Kind::RequiredRequestBodyRemoved, c(Major, C), c(Major, B), "the argument goes", "major: method_parameter_count_changed"),
    rule(Kind::OptionalRequestBodyRemoved, c(Major, C), c(Major, C), "the argument goes", "major: method_parameter_count_changed"),
    rule(Kind::RequestBodyBecameRequired, c(Major, B), c(Major, C), "T instead of Option<T>; the old client may send none", "none"),
    rule(Kind::RequestBodyBecameOptional, c(Major, C), c(Major, B), "Option<T> instead of T", "none"),
    rule(Kind::ContentTypeAdded, c(Minor, C), c(Minor, C), "the old client keeps using the type it knows", "none"),
    rule(Kind::ContentTypeRemoved, c(Major, B), c(Major, B), "the type the old client uses is gone", "none"),
    rule(Kind::SuccessResponseAdded, c(Major, B), c(Major, B), "the method's success type becomes (or gains a variant of) an outcome enum; the old client reads the new status as an error", "none"),
    rule(Kind::SuccessResponseRemoved, c(Major, C), c(Major, C), "its response type goes; the old client just never sees it", "major: enum_missing"),
    rule(Kind::ErrorResponseAdded, c(Minor, C), c(Minor, C), "still an error for the old client, only less typed", "none"),
    rule(Kind::ErrorResponseRemoved, c(Major, C), c(Major, C), "its error type goes", "none"),
    rule(Kind::ResponseHeaderAdded, c(Patch, C), c(Patch, C), "response headers are not part of the generated API", "none"),
    rule(Kind::ResponseHeaderRemoved, c(Patch, C), c(Patch, C), "response headers are not part of the generated API", "none"),
    rule(Kind::ResponseHeaderChanged, c(Patch, C), c(Patch, C), "response headers are not part of the generated API", "none"),
    rule(Kind::SchemaAdded, c(Minor, C), c(Minor, C), "a new type", "none"),
    rule(Kind::SchemaRemoved, c(Major, C), c(Major, C), "the type goes; uses are reported where they are", "major: struct_missing"),
    rule(Kind::SchemaRenamed, c(Major, C), c(Major, C), "the type is renamed; the wire is the same", "major: struct_missing"),
    rule(Kind::PropertyAddedRequired, c(Major, B), c(Major, C), "`new` gains an argument; the old client does not send it", "major: method_parameter_count_changed"),
    rule(Kind::PropertyAddedOptional, c(Minor, C), c(Minor, C), "a new field and setter of a `#[non_exhaustive]` struct", "none"),
    rule(Kind::RequiredPropertyRemoved, c(Major, C), c(Major, B), "the field goes; the old client requires it in responses", "major: method_parameter_count_changed, struct_pub_field_missing"),
    rule(Kind::OptionalPropertyRemoved, c(Major, C), c(Major, C), "the field goes", "major: inherent_method_missing, struct_pub_field_missing"),
    rule(Kind::PropertyBecameRequired, c(Major, B), c(Major, C), "T instead of Option<T>; the old client may omit it", "major: inherent_method_missing, method_parameter_count_changed"),
    rule(Kind::PropertyBecameOptional, c(Major, C), c(Major, B), "Option<T> instead of T; the old client requires it", "major: method_parameter_count_changed"),
    rule(Kind::PropertyBecameNullable, c(Major, C), c(Major, B), "Option<T> instead of T; the old client rejects null", "none"),
    rule(Kind::PropertyBecameNonNullable, c(Major, B), c(Major, C), "T instead of Option<T>; the old client may send null", "none"),
    rule(Kind::OptionalPropertyNullabilityChanged, c(Patch, C), c(Patch, C), "already Option<T>; null reads as absent and None is not sent", "none"),
    rule(Kind::NullableAdded, c(Patch, C), c(Minor, B), "the old client rejects null", "none"),
    rule(Kind::NullableRemoved, c(Patch, C), c(Patch, C), "the old client never sends null here", "none"),
    rule(Kind::TypeChanged, c(Major, B), c(Major, B), "another Rust type and another JSON shape", "none"),
    rule(Kind::FormatTightened, c(Minor, B), c(Patch, C), "the server may reject what the old client sends", "none"),
    rule(Kind::FormatLoosened, c(Patch, C), c(Minor, B), "the old client may reject what the server sends", "none"),
    rule(Kind::FormatChanged, c(Minor, B), c(Minor, B), "both sides may reject the other's values", "none"),
    rule(Kind::RustTypeChanged, c(Major, C), c(Major, C), "code naming or matching the old type stops compiling", "none"),
    rule(Kind::EnumValueAdded, c(Minor, C), c(Minor, C), "a new variant of a `#[non_exhaustive]` enum; the old client reads it as `Unknown`", "none"),
    rule(Kind::EnumValueRemoved, c(Major, B), c(Major, C), "the variant goes; the server rejects the value", "major: enum_variant_missing"),
    rule(Kind::EnumRestricted, c(Minor, B), c(Patch, C), "the server rejects values outside the list", "none"),
    rule(Kind::EnumLifted, c(Patch, C), c(Patch, C), "the old client reads unlisted values as `Unknown`", "major: enum_missing"),
    rule(Kind::UnionVariantAdded, c(Minor, C), c(Minor, B), "a new variant of a `#[non_exhaustive]` enum; the old client cannot read it", "none"),
    rule(Kind::UnionVariantRemoved, c(Major, B), c(Major, C), "the variant goes; the server rejects it", "major: enum_variant_missing"),
    rule(Kind::DiscriminatorChanged, c(Major, B), c(Major, B), "variants are picked by another tag", "none"),
    rule(Kind::ConstraintTightened, c(Major, B), c(Major, C), "the new crate refuses values the old one accepted: callers' running code fails", "none"),
    rule(Kind::ConstraintLoosened, c(Patch, C), c(Minor, B), "the new crate accepts more; the old client's checks may reject what the server sends", "none"),
    rule(Kind::ConstraintChanged, c(Major, B), c(Major, B), "the new crate refuses some values the old one accepted; each side may reject the other's", "none"),
    rule(Kind::DefaultChanged, c(Minor, B), c(Minor, B), "an absent value means something else to the server (and to `<field>_or_default`)", "none"),
    rule(Kind::DefaultAdded, c(Minor, B), c(Minor, B), "a new `<field>_or_default` accessor; an absent value now means the default", "none"),
    rule(Kind::DefaultRemoved, c(Major, B), c(Major, B), "the `<field>_or_default` accessor goes; an absent value no longer means the default", "major: inherent_method_missing"),
    rule(Kind::DeprecatedAdded, c(Minor, C), c(Minor, C), "new deprecation warnings", "none"),
    rule(Kind::DeprecatedRemoved, c(Patch, C), c(Patch, C), "fewer warnings", "none"),
    rule(Kind::DocumentationChanged, c(Patch, C), c(Patch, C), "rustdoc only", "none"),
    rule(Kind::KeywordChanged, c(Major, B), c(Major, B), "not understood by the diff: review by hand", "none"),
];

/// The row of a kind.
pub fn rule_of(kind: Kind) -> &'static Rule {
    let index = Kind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
    &RULES[index]
}

/// Classifies a change of `kind` at a place used in `direction`.
pub fn classify(kind: Kind, direction: Direction) -> Class {
    let row = rule_of(kind);
    let worst = |a: Class, b: Class| c(a.semver.max(b.semver), a.wire.max(b.wire));
    match direction {
        Direction::Request | Direction::Api => row.request,
        Direction::Response => row.response,
        Direction::Both => worst(row.request, row.response),
        Direction::Unused => c(row.request.semver.max(row.response.semver), Wire::Compatible),
    }
}

/// The table as Markdown (pasted in docs/spec-evolution.md; a test keeps the two equal).
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| change | meaning | sent by the crate (request) | received by the crate (response) | why | cargo-semver-checks on the fixture |\n|---|---|---|---|---|---|\n",
    );
    for row in RULES {
        let cell = |class: Class| format!("{} / {}", class.semver, class.wire);
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            row.kind.name(),
            row.kind.meaning(),
            cell(row.request),
            cell(row.response),
            row.why,
            row.semver_checks
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_kind_in_kind_order() {
        assert_eq!(RULES.len(), Kind::ALL.len());
        for (row, kind) in RULES.iter().zip(Kind::ALL) {
            assert_eq!(row.kind, *kind, "rules table out of order at {}", kind.name());
        }
    }

    #[test]
    fn a_change_that_breaks_the_wire_is_never_a_patch() {
        for row in RULES {
            for (side, class) in [("request", row.request), ("response", row.response)] {
                assert!(
                    !(class.wire == B && class.semver == Patch),
                    "{} ({side}) breaks the wire but is only a patch",
                    row.kind.name()
                );
            }
        }
        for kind in Kind::ALL {
            for direction in [Direction::Request, Direction::Response, Direction::Both, Direction::Api, Direction::Unused] {
                let class = classify(*kind, direction);
                assert!(!(class.wire == B && class.semver == Patch), "{} {direction:?}", kind.name());
            }
        }
    }

    #[test]
    fn mirrors_are_involutions() {
        for kind in Kind::ALL {
            assert_eq!(kind.mirror().mirror(), *kind, "{}", kind.name());
        }
    }

    #[test]
    fn both_takes_the_worse_of_each_axis() {
        let both = classify(Kind::PropertyAddedRequired, Direction::Both);
        assert_eq!(both, c(Major, B));
        let unused = classify(Kind::RequiredPropertyRemoved, Direction::Unused);
        assert_eq!(unused, c(Major, C));
    }
}
