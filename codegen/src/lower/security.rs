//! Security requirements -> what the runtime fills. Each scheme of an operation's requirement
//! (its own `security`, else the document's) maps onto the runtime's credentials where one
//! serves it:
//! - HTTP `bearer`, OAuth 2 and OpenID Connect, and an `apiKey` header named like the settings'
//!   authorization header (the Vipps access-token flow): the access token, `Bearer <token>`;
//! - an `apiKey` header named like the settings' subscription-key header: the subscription key.
//!
//! Any other scheme (HTTP `basic`, an `apiKey` under another name, in the query or a cookie) is
//! a located `unsupported-security` warning, and the methods it affects take that credential as
//! a parameter the caller fills. Of several alternative requirements the first the runtime can
//! serve wins. An operation without requirements that declares the authorization header itself
//! (documents that list credentials as plain headers) is authenticated through that header.

use openapiv3::{APIKeyLocation, ReferenceOr, SecurityScheme};

use super::Lowerer;
use crate::error::Lint;
use crate::ir::{HeaderRole, Param, ParamEncoding, ParamLocation, TypeRef};
use crate::load::pointer_join;
use crate::names::field_name;

/// How one scheme is served.
enum Served {
    /// By the runtime's access token.
    Token,
    /// By the runtime's subscription key (or another credential the runtime fills by role).
    Role,
    /// By the caller: a parameter at this place.
    Caller { location: ParamLocation, name: String },
}

/// Whether the operation sends the access token; adds a parameter for every credential the
/// runtime cannot fill, and makes a declared header such a credential travels in the caller's.
pub(super) fn apply(lowerer: &mut Lowerer<'_>, operation: &openapiv3::Operation, params: &mut Vec<Param>) -> bool {
    let requirements = operation.security.clone().or_else(|| lowerer.resolved.openapi.security.clone()).unwrap_or_default();
    let declares_token_header = params.iter().any(|p| p.role == HeaderRole::Authorization);
    if requirements.is_empty() || requirements.iter().any(|requirement| requirement.is_empty()) {
        // No requirement, or one alternative that needs nothing.
        return declares_token_header;
    }
    let judged: Vec<Vec<(String, Served)>> = requirements
        .iter()
        .map(|requirement| requirement.keys().filter_map(|name| serve(lowerer, name).map(|served| (name.clone(), served))).collect())
        .collect();
    let chosen = judged.iter().position(|schemes| schemes.iter().all(|(_, s)| !matches!(s, Served::Caller { .. }))).unwrap_or(0);
    let mut authenticated = declares_token_header;
    for (scheme, served) in &judged[chosen] {
        match served {
            Served::Token => authenticated = true,
            Served::Role => {
                // The runtime fills a header only where the operation declares it.
                let name = lowerer.settings.headers.subscription_key.clone();
                if !params.iter().any(|p| p.role == HeaderRole::SubscriptionKey) {
                    params.push(credential_param(name.clone(), field_name(&name), ParamLocation::Header, HeaderRole::SubscriptionKey, false));
                }
            }
            Served::Caller { location, name } => {
                let pointer = pointer_join("/components/securitySchemes", scheme);
                lowerer.warn(
                    &pointer,
                    Lint::UnsupportedSecurity,
                    format!("security scheme `{scheme}` is not one the runtime fills (bearer token, subscription key); the methods that need it take `{name}` as a parameter"),
                );
                match params.iter_mut().find(|p| p.location == *location && p.wire_name.eq_ignore_ascii_case(name)) {
                    Some(declared) => {
                        declared.role = HeaderRole::Plain;
                        declared.credential = true;
                    }
                    None => {
                        // Not a name the method already uses for an argument or a local.
                        let mut rust_name = field_name(name);
                        while params.iter().any(|p| p.name == rust_name) || ["options", "body", "self", "request", "response", "value"].contains(&rust_name.as_str()) {
                            rust_name.push_str("_credential");
                        }
                        params.push(credential_param(name.clone(), rust_name, *location, HeaderRole::Plain, true));
                    }
                }
                if *location == ParamLocation::Header && name.eq_ignore_ascii_case(&lowerer.settings.headers.authorization) {
                    // The caller fills the header the token would go in: the runtime must not.
                    authenticated = false;
                }
            }
        }
    }
    authenticated
}

/// A required string parameter the security requirement adds.
fn credential_param(wire_name: String, name: String, location: ParamLocation, role: HeaderRole, credential: bool) -> Param {
    Param { wire_name, name, location, required: true, ty: TypeRef::String, role, max_length: None, encoding: ParamEncoding::Text, via_slice: false, rfc3339: false, credential }
}

/// How the scheme `name` is served; None (with a warning) when the document does not define it.
fn serve(lowerer: &mut Lowerer<'_>, name: &str) -> Option<Served> {
    let pointer = pointer_join("/components/securitySchemes", name);
    let scheme = lowerer.resolved.openapi.components.as_ref().and_then(|c| c.security_schemes.get(name)).cloned();
    let scheme = match scheme {
        Some(ReferenceOr::Item(scheme)) => scheme,
        Some(ReferenceOr::Reference { reference }) => {
            let target = reference.rsplit('/').next().unwrap_or_default().to_string();
            match lowerer.resolved.openapi.components.as_ref().and_then(|c| c.security_schemes.get(&target)) {
                Some(ReferenceOr::Item(scheme)) => scheme.clone(),
                _ => return unknown(lowerer, &pointer, name),
            }
        }
        None => return unknown(lowerer, &pointer, name),
    };
    let headers = &lowerer.settings.headers;
    let named = |wanted: &str, actual: &str| !wanted.is_empty() && wanted.eq_ignore_ascii_case(actual);
    Some(match scheme {
        SecurityScheme::HTTP { scheme, .. } if scheme.eq_ignore_ascii_case("bearer") => Served::Token,
        SecurityScheme::OAuth2 { .. } | SecurityScheme::OpenIDConnect { .. } => Served::Token,
        SecurityScheme::APIKey { location: APIKeyLocation::Header, name, .. } if named(&headers.authorization, &name) => Served::Token,
        SecurityScheme::APIKey { location: APIKeyLocation::Header, name, .. } if named(&headers.subscription_key, &name) => Served::Role,
        SecurityScheme::APIKey { location, name, .. } => {
            let location = match location {
                APIKeyLocation::Header => ParamLocation::Header,
                APIKeyLocation::Query => ParamLocation::Query,
                APIKeyLocation::Cookie => ParamLocation::Cookie,
            };
            Served::Caller { location, name }
        }
        SecurityScheme::HTTP { .. } => Served::Caller { location: ParamLocation::Header, name: "Authorization".to_string() },
    })
}

fn unknown(lowerer: &mut Lowerer<'_>, pointer: &str, name: &str) -> Option<Served> {
    lowerer.warn(pointer, Lint::UnsupportedSecurity, format!("security scheme `{name}` is required but not defined in components/securitySchemes; ignored"));
    None
}
