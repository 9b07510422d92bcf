//! The crate's glue: which generated items the runtime is handed (`ir::GluePlan`), decided once
//! over every lowered API of the crate.

use heck::ToShoutySnakeCase;

use crate::ir::{Api, FieldRead, GluePlan, HeaderRole, Presence, StatusMatch, TokenPlan, TypeKind, TypeRef};
use crate::settings::ClientSettings;

/// Plans the glue of a crate made of `apis`.
///
/// The merchant serial number is checked by the first validated string type a
/// merchant-serial-number header has (every document of a crate describes the same merchant). The token operation is
/// the settings' `client.token_operation`; the token's fields are read by their wire names in
/// `client.token_fields`, from the operation's first 2xx answer that is a struct. A token
/// operation whose answer has no token field gives no plan: authenticated calls then fail with
/// a configuration error naming the setting.
pub fn plan(apis: &[Api], settings: &ClientSettings) -> GluePlan {
    let merchant_check = apis.iter().find_map(|api| {
        api.operations.iter().flat_map(|op| &op.params).find_map(|param| match &param.ty {
            TypeRef::Named(name)
                if param.role == HeaderRole::MerchantSerialNumber
                    && matches!(api.types.get(name).map(|t| &t.kind), Some(TypeKind::Newtype(def)) if def.inner == TypeRef::String) =>
            {
                Some((api.module.clone(), name.clone()))
            }
            _ => None,
        })
    });
    let uses_subscription_key = apis
        .iter()
        .flat_map(|api| &api.operations)
        .filter(|op| !op.merchant_served)
        .any(|op| op.params.iter().any(|p| p.role == HeaderRole::SubscriptionKey));
    GluePlan { merchant_check, token: token_plan(apis, settings), uses_subscription_key }
}

/// Whether `op` can be the token operation the glue calls: the settings name it, and its
/// method takes nothing but the call options (every parameter filled by the runtime, no body)
/// and answers one success type. The client emits it crate-private only then; otherwise it is
/// an ordinary public method and the crate has no token operation.
pub fn is_token_operation(op: &crate::ir::Operation, settings: &ClientSettings) -> bool {
    settings.token_operation.as_deref() == Some(op.id.as_str())
        && !op.merchant_served
        && op.body.is_none()
        && op.params.iter().all(|p| p.location == crate::ir::ParamLocation::Header && !matches!(p.role, HeaderRole::Plain | HeaderRole::IdempotencyKey))
        && op.responses.iter().filter(|r| matches!(r.status, StatusMatch::Code(200..=299) | StatusMatch::Range(2))).count() == 1
}

fn token_plan(apis: &[Api], settings: &ClientSettings) -> Option<TokenPlan> {
    let (api, op) = apis.iter().find_map(|api| api.operations.iter().find(|op| is_token_operation(op, settings)).map(|op| (api, op)))?;
    let fields = op.responses.iter().filter(|r| matches!(r.status, StatusMatch::Code(200..=299))).find_map(|response| match &response.ty {
        Some(TypeRef::Named(name)) => match api.types.get(name).map(|t| &t.kind) {
            Some(TypeKind::Struct(def)) => Some(&def.fields),
            _ => None,
        },
        _ => None,
    })?;
    let read = |wire: &str| {
        fields.iter().find(|f| f.wire_name == wire).map(|f| FieldRead { name: f.name.clone(), optional: f.presence != Presence::Required })
    };
    let names = &settings.token_fields;
    Some(TokenPlan {
        client_module: crate::layout::client_module(&api.module),
        fn_name: op.fn_name.clone(),
        static_name: op.fn_name.to_shouty_snake_case(),
        access_token: read(&names.access_token)?,
        expires_in: read(&names.expires_in),
        expires_on: read(&names.expires_on),
    })
}
