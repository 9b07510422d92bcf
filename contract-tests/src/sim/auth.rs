//! Access tokens and the credential checks of every ePayment call (rules T1, T2).
//!
//! By default any non-empty client id, client secret and subscription key with a valid merchant
//! serial number (MSN) get a token; the token is bound to that MSN and subscription key. With
//! [`Credentials::Fixed`] only the one configured set is accepted.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::HeaderMap;
use chrono::{DateTime, Duration, Utc};
use vipps_epayment::access_token::AuthorizationTokenResponse;
use vipps_epayment::epayment::Msn;

use super::reply::Refusal;
use super::validation::header;

/// How long a token lives: one hour, as in the test environment (rule T1).
pub const TOKEN_LIFETIME_SECONDS: i64 = 3600;

/// Which credentials the access-token call accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Credentials {
    /// Any non-empty client id, secret and subscription key, and any valid MSN.
    #[default]
    Any,
    /// Exactly this set.
    Fixed(MerchantCredentials),
}

/// One merchant's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantCredentials {
    /// `client_id` header of the access-token call.
    pub client_id: String,
    /// `client_secret` header of the access-token call.
    pub client_secret: String,
    /// `Ocp-Apim-Subscription-Key` header of every call.
    pub subscription_key: String,
    /// `Merchant-Serial-Number` header of every call.
    pub msn: String,
}

/// The merchant a checked call acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The merchant serial number the token was issued for.
    pub msn: String,
}

#[derive(Debug, Clone)]
struct IssuedToken {
    msn: String,
    subscription_key: String,
    expires_at: DateTime<Utc>,
}

/// Issues tokens and checks them.
#[derive(Debug)]
pub struct Auth {
    credentials: Credentials,
    tokens: Mutex<HashMap<String, IssuedToken>>,
}

fn required<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, Refusal> {
    match header(headers, name) {
        Ok(Some(value)) if !value.trim().is_empty() => Ok(value),
        Ok(_) => Err(Refusal::unauthorized(name, "required header is missing or empty")),
        Err(_) => Err(Refusal::unauthorized(name, "header is not valid text")),
    }
}

fn valid_msn(value: &str) -> Result<(), Refusal> {
    Msn::new(value)
        .map(|_| ())
        .map_err(|error| Refusal::unauthorized("Merchant-Serial-Number", error.to_string()))
}

impl Auth {
    /// An issuer accepting `credentials`.
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials,
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// `POST /accesstoken/get`: checks the headers and issues a token (rule T1).
    pub fn issue(
        &self,
        headers: &HeaderMap,
        now: DateTime<Utc>,
    ) -> Result<AuthorizationTokenResponse, Refusal> {
        let client_id = required(headers, "client_id")?;
        let client_secret = required(headers, "client_secret")?;
        let subscription_key = required(headers, "Ocp-Apim-Subscription-Key")?;
        let msn_header = header(headers, "Merchant-Serial-Number")
            .map_err(|_| Refusal::unauthorized("Merchant-Serial-Number", "header is not valid text"))?;
        let msn = match (&self.credentials, msn_header) {
            (Credentials::Any, None) => {
                return Err(Refusal::unauthorized(
                    "Merchant-Serial-Number",
                    "required by the simulator: tokens are issued per merchant serial number",
                ));
            }
            (Credentials::Any, Some(msn)) => {
                valid_msn(msn)?;
                msn.to_string()
            }
            (Credentials::Fixed(fixed), msn) => {
                let checks = [
                    ("client_id", client_id, fixed.client_id.as_str()),
                    ("client_secret", client_secret, fixed.client_secret.as_str()),
                    ("Ocp-Apim-Subscription-Key", subscription_key, fixed.subscription_key.as_str()),
                ];
                for (name, given, expected) in checks {
                    if given != expected {
                        return Err(Refusal::unauthorized(name, "does not match the configured credentials"));
                    }
                }
                if let Some(msn) = msn
                    && msn != fixed.msn
                {
                    return Err(Refusal::unauthorized(
                        "Merchant-Serial-Number",
                        "does not match the configured credentials",
                    ));
                }
                fixed.msn.clone()
            }
        };
        let token = format!("sim.{}.{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        let expires_at = now + Duration::seconds(TOKEN_LIFETIME_SECONDS);
        let mut tokens = self.tokens.lock().expect("token lock poisoned");
        if tokens.len() > 10_000 {
            tokens.retain(|_, issued| issued.expires_at > now);
        }
        tokens.insert(
            token.clone(),
            IssuedToken {
                msn,
                subscription_key: subscription_key.to_string(),
                expires_at,
            },
        );
        Ok(AuthorizationTokenResponse::new(
            "Bearer".to_string(),
            TOKEN_LIFETIME_SECONDS.to_string(),
            "0".to_string(),
            expires_at.timestamp().to_string(),
            now.timestamp().to_string(),
            "epayment-sim".to_string(),
            token,
        ))
    }

    /// Checks `Authorization: Bearer <token>`, the subscription key and the MSN of an ePayment
    /// call (rule T2).
    pub fn check(&self, headers: &HeaderMap, now: DateTime<Utc>) -> Result<Caller, Refusal> {
        let authorization = required(headers, "Authorization")?;
        let token = authorization
            .strip_prefix("Bearer ")
            .ok_or_else(|| Refusal::unauthorized("Authorization", "expected `Bearer <token>`"))?
            .trim();
        let subscription_key = required(headers, "Ocp-Apim-Subscription-Key")?;
        let msn = required(headers, "Merchant-Serial-Number")?;
        valid_msn(msn)?;
        let issued = self
            .tokens
            .lock()
            .expect("token lock poisoned")
            .get(token)
            .cloned()
            .ok_or_else(|| Refusal::unauthorized("Authorization", "unknown access token"))?;
        if issued.expires_at <= now {
            return Err(Refusal::unauthorized("Authorization", "access token has expired"));
        }
        if issued.msn != msn {
            return Err(Refusal::unauthorized(
                "Merchant-Serial-Number",
                "the access token was issued for another merchant serial number",
            ));
        }
        if issued.subscription_key != subscription_key {
            return Err(Refusal::unauthorized(
                "Ocp-Apim-Subscription-Key",
                "does not match the key the access token was issued with",
            ));
        }
        Ok(Caller { msn: msn.to_string() })
    }
}
