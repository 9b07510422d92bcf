//! Conveniences over the generated ePayment types, hand-written because they are about money,
//! not about the document: amounts per currency in minor units, and how an amount reads.
//! (The runtime stays free of generated types; this module is the SDK's own, next to it.)

use std::fmt;

use crate::ValidationError;
use crate::epayment::{Amount, AmountValue, Currency};

impl Amount {
    /// `minor` units of `currency` (øre, cents): checked against the spec's bounds.
    pub fn minor(currency: Currency, minor: i64) -> Result<Self, ValidationError> {
        Ok(Self::new(currency, AmountValue::new(minor)?))
    }

    /// NOK in øre: `Amount::nok(49_900)` is 499.00 NOK.
    pub fn nok(ore: i64) -> Result<Self, ValidationError> {
        Self::minor(Currency::Nok, ore)
    }

    /// DKK in øre.
    pub fn dkk(ore: i64) -> Result<Self, ValidationError> {
        Self::minor(Currency::Dkk, ore)
    }

    /// EUR in cents.
    pub fn eur(cents: i64) -> Result<Self, ValidationError> {
        Self::minor(Currency::Eur, cents)
    }
}

/// `499.00 NOK`: every currency the spec lists has two decimals (minor units are hundredths).
impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let minor = self.value.get();
        write!(f, "{}.{:02} {}", minor / 100, minor % 100, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_made_per_currency_and_read_with_two_decimals() {
        assert_eq!(Amount::nok(49_900).map(|a| a.to_string()).ok().as_deref(), Some("499.00 NOK"));
        assert_eq!(Amount::dkk(5).map(|a| a.to_string()).ok().as_deref(), Some("0.05 DKK"));
        assert_eq!(Amount::eur(65_000_000).map(|a| a.to_string()).ok().as_deref(), Some("650000.00 EUR"));
        assert_eq!(Amount::nok(12_345).map(|a| (a.currency, a.value.get())).ok(), Some((Currency::Nok, 12_345)));
        let error = Amount::nok(65_000_001).expect_err("above the spec's maximum");
        assert_eq!(error.type_name, "AmountValue");
        assert!(Amount::eur(-1).is_err());
        assert_eq!(Amount::minor(Currency::Unknown("ISK".into()), 100).map(|a| a.to_string()).ok().as_deref(), Some("1.00 ISK"));
    }
}
