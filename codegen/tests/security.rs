//! Security schemes map onto the runtime's credentials (`lower/security.rs`): a bearer token
//! (HTTP bearer, OAuth 2, OpenID Connect, an `apiKey` in the authorization header) is the
//! runtime's access token; any other scheme is a located `unsupported-security` warning and the
//! method takes the credential as a parameter.

use vipps_codegen::ir::{HeaderRole, Operation, ParamLocation};
use vipps_codegen::{HeaderRoles, Lint, RemoteRefMap, Settings, lower_file};

fn operations() -> (Vec<Operation>, Vec<vipps_codegen::Warning>) {
    let settings = Settings::defaults_for(HeaderRoles::default());
    let path = std::path::Path::new("tests/fixtures/constructs/security_schemes.yaml");
    let (_, api) = lower_file(path, &settings, "api", &RemoteRefMap::default()).expect("the fixture lowers");
    (api.operations, api.warnings)
}

/// (authenticated, the caller's credential parameters as `location wire-name`).
fn auth(operations: &[Operation], id: &str) -> (bool, Vec<String>) {
    let op = operations.iter().find(|op| op.id == id).unwrap_or_else(|| panic!("{id} is lowered"));
    let params = op.params.iter().filter(|p| p.role == HeaderRole::Plain).map(|p| format!("{:?} {}", p.location, p.wire_name)).collect();
    (op.authenticated, params)
}

#[test]
fn each_scheme_is_served_by_the_runtime_or_becomes_a_parameter() {
    let (ops, warnings) = operations();
    assert_eq!(auth(&ops, "byBearer"), (true, vec![]), "HTTP bearer: the access token");
    assert_eq!(auth(&ops, "byApiKey"), (false, vec!["Header X-Api-Key".to_string()]));
    assert_eq!(auth(&ops, "byBasic"), (false, vec!["Header Authorization".to_string()]), "basic: the caller fills Authorization");
    assert_eq!(auth(&ops, "byQueryKey"), (false, vec!["Query key".to_string()]));
    assert_eq!(auth(&ops, "byEither"), (true, vec![]), "of two alternatives, the one the runtime serves wins");
    assert_eq!(auth(&ops, "open"), (false, vec![]), "`security: []` needs nothing");
    assert_eq!(auth(&ops, "byUndefined"), (false, vec![]));
    assert_eq!(auth(&ops, "bySubscriptionKey"), (false, vec!["Header Ocp-Apim-Subscription-Key".to_string()]), "no subscription-key role in the default settings");
    let credentials: Vec<&str> = ops.iter().flat_map(|op| &op.params).filter(|p| p.credential).map(|p| p.wire_name.as_str()).collect();
    assert_eq!(credentials, ["X-Api-Key", "Authorization", "key", "Ocp-Apim-Subscription-Key"], "caller-filled credentials are marked, to be kept out of logs");
    let declared = ops.iter().find(|op| op.id == "byDeclaredHeader").expect("lowered");
    assert!(declared.authenticated, "a declared authorization header is the token's");
    assert_eq!(declared.params.iter().map(|p| p.role).collect::<Vec<_>>(), [HeaderRole::Authorization]);
    assert!(ops.iter().flat_map(|op| &op.params).all(|p| p.location != ParamLocation::Cookie));

    let unsupported: Vec<String> = warnings
        .iter()
        .filter(|w| w.lint == Lint::UnsupportedSecurity)
        .map(|w| format!("{} line {}", w.location.pointer, w.location.line.map_or(0, |l| l)))
        .collect();
    assert_eq!(
        unsupported,
        [
            "/components/securitySchemes/missing line 87",
            "/components/securitySchemes/apiKey line 91",
            "/components/securitySchemes/basic line 95",
            "/components/securitySchemes/queryKey line 98",
            "/components/securitySchemes/subscription line 102",
        ],
        "one located warning per scheme; the undefined one at the nearest place that exists"
    );
}

#[test]
fn a_subscription_key_scheme_is_the_runtime_s_subscription_key() {
    let roles = HeaderRoles { subscription_key: "Ocp-Apim-Subscription-Key".into(), ..HeaderRoles::default() };
    let settings = Settings::defaults_for(roles);
    let path = std::path::Path::new("tests/fixtures/constructs/security_schemes.yaml");
    let (_, api) = lower_file(path, &settings, "api", &RemoteRefMap::default()).expect("the fixture lowers");
    let op = api.operations.iter().find(|op| op.id == "bySubscriptionKey").expect("lowered");
    assert!(!op.authenticated);
    let roles: Vec<(&str, HeaderRole, bool)> = op.params.iter().map(|p| (p.wire_name.as_str(), p.role, p.credential)).collect();
    assert_eq!(roles, [("Ocp-Apim-Subscription-Key", HeaderRole::SubscriptionKey, false)], "declared for the runtime to fill");
    assert!(api.warnings.iter().all(|w| !w.location.pointer.ends_with("/subscription")));
}
