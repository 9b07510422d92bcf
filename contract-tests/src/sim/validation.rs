//! Request validation: headers, the path reference, body parsing with the generated types, and
//! the rules the types cannot express (unknown enum values, S10, S11, S12).
//!
//! Every failure is a 400 Problem whose `extraDetails` name the field and the broken rule.
//! Validation runs before anything is changed, so a rejected request changes nothing.

use axum::http::HeaderMap;
use chrono::{DateTime, Duration, Utc};
use serde::de::DeserializeOwned;
use vipps_epayment::epayment::{
    Amount, BarcodeFormatEnum, BlockedPaymentSources, CardPassthroughAllowedCardType,
    CreatePaymentRequest, CreatePaymentRequestCustomerInteraction,
    CreatePaymentRequestQrFormatFormat, CreatePaymentRequestUserFlow, Currency, Customer,
    ForceApprove, PaymentMethodType, QuantityUnitEnum, Reference, ShippingBrand, ShippingType,
};

use super::reply::Refusal;

/// Shortest lifetime of a long-living payment's `expiresAt` (rule S11).
pub const EXPIRES_AT_MIN: Duration = Duration::minutes(10);
/// Longest lifetime of a long-living payment's `expiresAt` (rule S11).
pub const EXPIRES_AT_MAX: Duration = Duration::days(28);

/// A header's value: `Ok(None)` when absent, `Err(())` when not visible ASCII text.
#[allow(clippy::result_unit_err)]
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ()> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => value.to_str().map(Some).map_err(|_| ()),
    }
}

fn text_header<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<Option<&'a str>, Refusal> {
    header(headers, name).map_err(|_| Refusal::invalid(name, "header is not valid text"))
}

/// The `Idempotency-Key` header (rules I1, I2): `required` for create, capture and refund; its
/// valid form is the generated key type's (the one rule, set in `spec/codegen.yaml`, that the
/// client and the strategies follow too).
pub fn idempotency_key(headers: &HeaderMap, required: bool) -> Result<Option<String>, Refusal> {
    const NAME: &str = "Idempotency-Key";
    match text_header(headers, NAME)? {
        None if required => Err(Refusal::invalid(NAME, "required header is missing (rule I1)")),
        None => Ok(None),
        Some(key) => match vipps_epayment::epayment::IdempotencyKey::new(key) {
            Ok(_) => Ok(Some(key.to_string())),
            Err(error) => Err(Refusal::invalid(NAME, format!("value {} (rules I1, I2)", error.rule))),
        },
    }
}

/// The optional `Vipps-System-*` headers: at most 30 characters each.
pub fn system_headers(headers: &HeaderMap) -> Result<(), Refusal> {
    for name in [
        "Vipps-System-Name",
        "Vipps-System-Version",
        "Vipps-System-Plugin-Name",
        "Vipps-System-Plugin-Version",
    ] {
        if let Some(value) = text_header(headers, name)? {
            let length = value.chars().count();
            if length > 30 {
                return Err(Refusal::invalid(name, format!("length {length} is above maxLength 30")));
            }
        }
    }
    Ok(())
}

/// The `{Reference}` path parameter, checked against the spec's `Reference` schema.
pub fn path_reference(raw: &str) -> Result<Reference, Refusal> {
    Reference::new(raw).map_err(|error| Refusal::invalid("Reference", error.to_string()))
}

/// A request body must be `application/json` (parameters such as `charset` allowed).
pub fn json_content_type(headers: &HeaderMap) -> Result<(), Refusal> {
    const NAME: &str = "Content-Type";
    let value = text_header(headers, NAME)?
        .ok_or_else(|| Refusal::invalid(NAME, "a JSON body needs Content-Type application/json"))?;
    let essence = value.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(Refusal::invalid(
            NAME,
            format!("`{value}` is not application/json"),
        ))
    }
}

fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// Parses `body` into a generated type; on failure names the JSON path of the failing field.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, Refusal> {
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(deserializer).map_err(|error| {
        if matches!(
            error.inner().classify(),
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof
        ) {
            return Refusal::invalid("body", format!("not valid JSON: {}", error.inner()));
        }
        let mut path = error.path().to_string();
        let reason = without_position(error.inner());
        if let Some(field) = reason
            .strip_prefix("missing field `")
            .and_then(|rest| rest.strip_suffix('`'))
        {
            path = if path == "." { field.to_string() } else { format!("{path}.{field}") };
            return Refusal::invalid(path, "required field is missing");
        }
        if path == "." {
            path = "body".to_string();
        }
        Refusal::invalid(path, reason)
    })?;
    Ok(value)
}

/// The body as a JSON value, for comparing repeated requests (rules I3, I4).
pub fn fingerprint(body: &[u8]) -> serde_json::Value {
    if body.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(body).unwrap_or(serde_json::Value::Null)
    }
}

macro_rules! known {
    ($field:expr, $value:expr, $ty:ty) => {
        if !$value.is_known() {
            let allowed: Vec<&str> = <$ty>::KNOWN.iter().map(|v| v.as_str()).collect();
            return Err(Refusal::invalid(
                $field,
                format!(
                    "unknown value `{}`; the spec allows {}",
                    $value.as_str(),
                    allowed.join(", ")
                ),
            ));
        }
    };
}

/// Currencies a payment may use without card passthrough (rule S10).
fn currency_allowed(currency: &Currency, method: &PaymentMethodType) -> bool {
    matches!(currency, Currency::Nok | Currency::Dkk | Currency::Eur)
        || matches!(method, PaymentMethodType::CardPassthrough)
}

/// An amount's currency must be one the spec lists.
pub fn check_amount(field: &str, amount: &Amount) -> Result<(), Refusal> {
    known!(format!("{field}.currency"), amount.currency, Currency);
    Ok(())
}

fn check_customer(field: &str, customer: &Customer) -> Result<(), Refusal> {
    let present = match customer {
        Customer::CustomerPhoneNumber(inner) => inner.phone_number.is_some(),
        Customer::PersonalQrCode(inner) => inner.personal_qr.is_some(),
        Customer::CustomerToken(inner) => inner
            .customer_token
            .as_deref()
            .is_some_and(|token| !token.is_empty()),
        // A branch a newer spec adds: the simulator knows only these three (rule S12).
        _ => false,
    };
    if present {
        Ok(())
    } else {
        Err(Refusal::invalid(
            field,
            "must hold exactly one of phoneNumber, personalQr or customerToken (rule S12)",
        ))
    }
}

/// What the create checks learned beyond the parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateChecks {
    /// The requested `expiresAt` of a long-living payment.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Checks a parsed create request against the rules the generated types cannot express:
/// unknown enum values, S10 (currency), S11 (`expiresAt`) and S12 (request shape).
pub fn check_create(
    request: &CreatePaymentRequest,
    now: DateTime<Utc>,
) -> Result<CreateChecks, Refusal> {
    check_create_enums(request)?;
    let method = &request.payment_method.type_;
    if !currency_allowed(&request.amount.currency, method) {
        return Err(Refusal::invalid(
            "amount.currency",
            format!(
                "{} needs paymentMethod CARD_PASSTHROUGH; use NOK, DKK or EUR (rule S10)",
                request.amount.currency
            ),
        ));
    }
    let flow = &request.user_flow;
    if matches!(flow, CreatePaymentRequestUserFlow::PushMessage) && request.customer.is_none() {
        return Err(Refusal::invalid("customer", "required when userFlow is PUSH_MESSAGE (rule S12)"));
    }
    // Rule S12 names WEB_REDIRECT only, so NATIVE_REDIRECT may leave `returnUrl` out.
    if matches!(flow, CreatePaymentRequestUserFlow::WebRedirect) && request.return_url.is_none() {
        return Err(Refusal::invalid("returnUrl", "required when userFlow is WEB_REDIRECT (rule S12)"));
    }
    if matches!(method, PaymentMethodType::Card)
        && !matches!(flow, CreatePaymentRequestUserFlow::WebRedirect)
    {
        return Err(Refusal::invalid(
            "paymentMethod.type",
            format!("CARD is only allowed with userFlow WEB_REDIRECT, not {flow} (rule S12)"),
        ));
    }
    if let Some(customer) = &request.customer {
        check_customer("customer", customer)?;
    }
    if let Some(metadata) = &request.metadata {
        for (key, value) in metadata.as_map() {
            let key_length = key.chars().count();
            if key_length > 100 {
                return Err(Refusal::invalid(
                    format!("metadata.{key}"),
                    format!("key length {key_length} is above 100 (rule S12)"),
                ));
            }
            let value_length = value.chars().count();
            if value_length > 500 {
                return Err(Refusal::invalid(
                    format!("metadata.{key}"),
                    format!("value length {value_length} is above 500 (rule S12)"),
                ));
            }
        }
    }
    let expires_at = match &request.expires_at {
        None => None,
        Some(raw) => {
            if !matches!(
                flow,
                CreatePaymentRequestUserFlow::PushMessage | CreatePaymentRequestUserFlow::Qr
            ) {
                return Err(Refusal::invalid(
                    "expiresAt",
                    format!("only allowed with userFlow PUSH_MESSAGE or QR, not {flow} (rule S11)"),
                ));
            }
            let at = DateTime::parse_from_rfc3339(raw.as_str())
                .map_err(|error| Refusal::invalid("expiresAt", format!("not an RFC 3339 time: {error}")))?
                .with_timezone(&Utc);
            if at < now + EXPIRES_AT_MIN || at > now + EXPIRES_AT_MAX {
                return Err(Refusal::invalid(
                    "expiresAt",
                    "must be 10 minutes to 28 days ahead (rule S11)",
                ));
            }
            Some(at)
        }
    };
    Ok(CreateChecks { expires_at })
}

fn check_create_enums(request: &CreatePaymentRequest) -> Result<(), Refusal> {
    check_amount("amount", &request.amount)?;
    if let Some(interaction) = &request.customer_interaction {
        known!("customerInteraction", interaction, CreatePaymentRequestCustomerInteraction);
    }
    known!("paymentMethod.type", request.payment_method.type_, PaymentMethodType);
    for (i, source) in request.payment_method.blocked_sources.iter().flatten().enumerate() {
        known!(format!("paymentMethod.blockedSources[{i}]"), source, BlockedPaymentSources);
    }
    known!("userFlow", request.user_flow, CreatePaymentRequestUserFlow);
    if let Some(qr) = &request.qr_format {
        known!("qrFormat.format", qr.format, CreatePaymentRequestQrFormatFormat);
    }
    if let Some(receipt) = &request.receipt {
        for (i, line) in receipt.order_lines.as_slice().iter().enumerate() {
            if let Some(unit) = line.unit_info.as_ref().and_then(|u| u.quantity_unit.as_ref()) {
                known!(format!("receipt.orderLines[{i}].unitInfo.quantityUnit"), unit, QuantityUnitEnum);
            }
        }
        known!("receipt.bottomLine.currency", receipt.bottom_line.currency, Currency);
        if let Some(format) = receipt.bottom_line.barcode.as_ref().and_then(|b| b.format.as_ref()) {
            known!("receipt.bottomLine.barcode.format", format, BarcodeFormatEnum);
        }
    }
    if let Some(groups) = request.shipping.as_ref().and_then(|s| s.fixed_options.as_ref()) {
        for (i, group) in groups.iter().enumerate() {
            known!(format!("shipping.fixedOptions[{i}].type"), group.type_, ShippingType);
            known!(format!("shipping.fixedOptions[{i}].brand"), group.brand, ShippingBrand);
            for (j, option) in group.options.iter().enumerate() {
                check_amount(&format!("shipping.fixedOptions[{i}].options[{j}].amount"), &option.amount)?;
            }
        }
    }
    if let Some(passthrough) = &request.card_passthrough {
        for (i, card) in passthrough.allowed_card_types.iter().enumerate() {
            known!(format!("cardPassthrough.allowedCardTypes[{i}]"), card, CardPassthroughAllowedCardType);
        }
    }
    Ok(())
}

/// Checks a capture or refund amount: a listed currency and a value above 0.
pub fn check_modification_amount(amount: &Amount) -> Result<(), Refusal> {
    check_amount("modificationAmount", amount)?;
    if amount.value.get() == 0 {
        return Err(Refusal::invalid(
            "modificationAmount.value",
            "must be above 0: an adjustment of nothing is refused (simulator rule)",
        ));
    }
    Ok(())
}

/// Checks a force-approve body.
pub fn check_force_approve(request: &ForceApprove) -> Result<(), Refusal> {
    if let Some(customer) = &request.customer {
        check_customer("customer", customer)?;
    }
    Ok(())
}
