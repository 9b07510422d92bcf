//! The plan of an operation's client method (`ir::MethodPlan`): argument order, local names,
//! the success type and the response arms. Decided here so `emit/client.rs` only translates.

use crate::ir::{ArmAction, HeaderRole, MethodLocals, MethodPlan, Operation, OutcomeVariant, Param, ParamLocation, ResponseArm, StatusMatch, Success};
use crate::names::type_name;

/// The method plan of a lowered operation.
pub fn plan(op: &Operation) -> MethodPlan {
    let arguments = argument_order(op);
    let taken: Vec<&str> = arguments.iter().map(|&index| op.params[index].name.as_str()).collect();
    let local = |wanted: &str| {
        let mut name = wanted.to_string();
        while taken.contains(&name.as_str()) {
            name.push('_');
        }
        name
    };
    let locals = MethodLocals { request: local("request"), response: local("response"), value: local("value"), idempotency_key: local("idempotency_key") };
    let success = success(op);
    let arms = arms(op, &success);
    MethodPlan { arguments, locals, success, arms }
}

/// Whether a status is a success (2xx).
pub fn is_success(status: StatusMatch) -> bool {
    matches!(status, StatusMatch::Code(200..=299) | StatusMatch::Range(2))
}

/// A parameter that is a method argument (path, query, cookie, and headers without a role).
fn is_argument(param: &Param) -> bool {
    match param.location {
        ParamLocation::Header => param.role == HeaderRole::Plain,
        _ => true,
    }
}

/// Path parameters in template order, then the other arguments, required before optional
/// (stable, so document order within each group).
fn argument_order(op: &Operation) -> Vec<usize> {
    let mut path: Vec<usize> = (0..op.params.len()).filter(|&i| op.params[i].location == ParamLocation::Path).collect();
    path.sort_by_key(|&i| op.path.find(&format!("{{{}}}", op.params[i].wire_name)).unwrap_or(usize::MAX));
    let mut others: Vec<usize> =
        (0..op.params.len()).filter(|&i| op.params[i].location != ParamLocation::Path && is_argument(&op.params[i])).collect();
    others.sort_by_key(|&i| !op.params[i].required);
    path.into_iter().chain(others).collect()
}

/// The variant name of a success status in an outcome enum.
fn status_variant(status: StatusMatch) -> String {
    match status {
        StatusMatch::Code(200) => "Ok".to_string(),
        StatusMatch::Code(201) => "Created".to_string(),
        StatusMatch::Code(202) => "Accepted".to_string(),
        StatusMatch::Code(203) => "NonAuthoritativeInformation".to_string(),
        StatusMatch::Code(204) => "NoContent".to_string(),
        StatusMatch::Code(205) => "ResetContent".to_string(),
        StatusMatch::Code(206) => "PartialContent".to_string(),
        StatusMatch::Code(code) => format!("Status{code}"),
        StatusMatch::Range(range) => format!("Other{range}xx"),
        StatusMatch::Default => "Other".to_string(),
    }
}

/// The one 2xx body, `()`, or an outcome enum when several 2xx responses are documented.
fn success(op: &Operation) -> Success {
    let successes: Vec<_> = op.responses.iter().filter(|r| is_success(r.status)).collect();
    match successes.as_slice() {
        [] => Success::Unit,
        [one] => one.ty.clone().map_or(Success::Unit, Success::Body),
        _ => Success::Outcome {
            name: format!("{}Outcome", type_name(&op.id)),
            variants: successes
                .iter()
                .map(|r| OutcomeVariant { name: status_variant(r.status), status: r.status, body: r.ty.clone() })
                .collect(),
        },
    }
}

/// The arms of the status `match`: exact codes first, then ranges, then `default`; codes handled
/// alike share one arm (`400 | 404 | 409`); any 2xx is success when none is documented; an
/// undocumented status is a status error.
fn arms(op: &Operation, success: &Success) -> Vec<ResponseArm> {
    let mut ordered: Vec<_> = op.responses.iter().collect();
    ordered.sort_by_key(|r| match r.status {
        StatusMatch::Code(_) => 0,
        StatusMatch::Range(_) => 1,
        StatusMatch::Default => 2,
    });
    let outcome = matches!(success, Success::Outcome { .. });
    let mut arms: Vec<ResponseArm> = Vec::new();
    for response in ordered {
        let body = response.ty.clone().map(|ty| (ty, response.media_type.clone().unwrap_or_default()));
        let action = if is_success(response.status) {
            ArmAction::Success { body, variant: outcome.then(|| status_variant(response.status)) }
        } else {
            match body {
                Some((ty, media)) => ArmAction::ErrorBody(ty, media),
                None => ArmAction::ErrorStatus { documented: true },
            }
        };
        let mergeable = matches!(response.status, StatusMatch::Code(_));
        let same = arms.iter_mut().find(|arm| {
            mergeable && arm.action == action && arm.statuses.iter().all(|s| matches!(s, StatusMatch::Code(_)))
        });
        match same {
            Some(arm) => arm.statuses.push(response.status),
            None => arms.push(ResponseArm { statuses: vec![response.status], action }),
        }
    }
    if !op.responses.iter().any(|r| is_success(r.status)) {
        arms.insert(0, ResponseArm { statuses: vec![StatusMatch::Range(2)], action: ArmAction::Success { body: None, variant: None } });
    }
    if !op.responses.iter().any(|r| r.status == StatusMatch::Default) {
        arms.push(ResponseArm { statuses: vec![StatusMatch::Default], action: ArmAction::ErrorStatus { documented: false } });
    }
    arms
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::TypeRef;
    use crate::lower::lower_test_yaml as lower;

    const SPEC: &str = r#"
openapi: 3.0.0
info: { title: Demo, version: '1' }
paths:
  /things/{b}/{a}:
    parameters:
      - { name: a, in: path, required: true, schema: { type: string } }
      - { name: request, in: query, schema: { type: string } }
      - { name: b, in: path, required: true, schema: { type: string } }
      - { name: response, in: query, required: true, schema: { type: string } }
    get:
      operationId: getThing
      responses:
        '200': { description: ok, content: { application/json: { schema: { type: string } } } }
        '400': { description: bad }
        '4XX': { description: other client error }
        '404': { description: missing }
        '409': { description: clash, content: { application/json: { schema: { type: string } } } }
        '500': { description: broken }
"#;

    #[test]
    fn arguments_follow_the_template_then_required_first_and_locals_avoid_them() {
        let api = lower(SPEC);
        let op = &api.operations[0];
        let names: Vec<&str> = op.method_plan.arguments.iter().map(|&i| op.params[i].name.as_str()).collect();
        assert_eq!(names, ["b", "a", "response", "request"]);
        assert_eq!(op.method_plan.locals.request, "request_");
        assert_eq!(op.method_plan.locals.response, "response_");
        assert_eq!(op.method_plan.locals.value, "value");
    }

    #[test]
    fn codes_handled_alike_share_an_arm_and_ranges_and_the_rest_follow() {
        let api = lower(SPEC);
        let plan = &api.operations[0].method_plan;
        assert_eq!(plan.success, Success::Body(TypeRef::String));
        let arms: Vec<(Vec<StatusMatch>, &ArmAction)> = plan.arms.iter().map(|arm| (arm.statuses.clone(), &arm.action)).collect();
        let status = ArmAction::ErrorStatus { documented: true };
        assert_eq!(
            arms,
            [
                (vec![StatusMatch::Code(200)], &ArmAction::Success { body: Some((TypeRef::String, "application/json".into())), variant: None }),
                (vec![StatusMatch::Code(400), StatusMatch::Code(404), StatusMatch::Code(500)], &status),
                (vec![StatusMatch::Code(409)], &ArmAction::ErrorBody(TypeRef::String, "application/json".into())),
                (vec![StatusMatch::Range(4)], &status),
                (vec![StatusMatch::Default], &ArmAction::ErrorStatus { documented: false }),
            ]
        );
    }
}
