//! An exact amount that may be zero: what was paid, is already refunded or is still
//! refundable. `Money` is what a refund moves and so is strictly positive; a balance of a
//! quote is often zero ("nothing refunded yet"), and must still respect the currency's
//! minor units and never be rounded.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

use crate::money::{Currency, Money, MoneyError};

/// A non-negative amount with no more decimals than its currency allows. Serialized as
/// `Money` is: `{"value": "0.00", "currency": "EUR"}`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Balance {
    value: Decimal,
    currency: Currency,
}

impl Balance {
    /// A vendor's decimal as a balance, refused (never rounded) when it has more decimals
    /// than the currency allows or is negative.
    pub fn new(value: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(MoneyError::Negative);
        }
        let normalized = value.normalize();
        if normalized.scale() > currency.exponent() {
            return Err(MoneyError::TooManyDecimals {
                value: value.to_string(),
                currency,
                exponent: currency.exponent(),
            });
        }
        let mut value = normalized.abs();
        value.rescale(currency.exponent());
        Ok(Balance { value, currency })
    }

    pub fn zero(currency: Currency) -> Self {
        let mut value = Decimal::ZERO;
        value.rescale(currency.exponent());
        Balance { value, currency }
    }

    pub fn value(&self) -> Decimal {
        self.value
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The balance as an amount a refund could move; `None` when it is zero.
    pub fn as_money(&self) -> Option<Money> {
        Money::new(self.value, self.currency).ok()
    }
}

impl From<Money> for Balance {
    fn from(m: Money) -> Self {
        Balance {
            value: m.value(),
            currency: m.currency(),
        }
    }
}

impl fmt::Debug for Balance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.value, self.currency)
    }
}

impl fmt::Display for Balance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.value, self.currency)
    }
}

impl Serialize for Balance {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            value: String,
            currency: &'a str,
        }
        Wire {
            value: self.value.to_string(),
            currency: self.currency.code(),
        }
        .serialize(s)
    }
}

impl utoipa::PartialSchema for Balance {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .description(Some(
                "An exact amount that may be zero (paid, already refunded, still refundable): \
                 a decimal string with exactly the currency's minor units, and an ISO 4217 code.",
            ))
            .property(
                "value",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(r"^[0-9]+(\.[0-9]+)?$"))
                    .examples([serde_json::json!("0.00")]),
            )
            .property(
                "currency",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[A-Z]{3}$"))
                    .examples([serde_json::json!("EUR")]),
            )
            .required("value")
            .required("currency")
            .into()
    }
}

impl utoipa::ToSchema for Balance {}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn zero_is_a_balance_and_minor_units_hold() {
        let zero = Balance::new(Decimal::ZERO, Currency::EUR).unwrap();
        assert_eq!(zero, Balance::zero(Currency::EUR));
        assert_eq!(zero.value().to_string(), "0.00");
        assert_eq!(zero.as_money(), None);
        assert_eq!(
            Balance::new(dec("35.500000"), Currency::EUR)
                .unwrap()
                .value()
                .to_string(),
            "35.50"
        );
        assert_eq!(
            Balance::new(dec("10.125"), Currency::EUR),
            Err(MoneyError::TooManyDecimals {
                value: "10.125".into(),
                currency: Currency::EUR,
                exponent: 2
            })
        );
        assert_eq!(
            Balance::new(dec("-1"), Currency::EUR),
            Err(MoneyError::Negative)
        );
        assert_eq!(
            Balance::new(dec("4500.5"), Currency::ISK).unwrap_err(),
            MoneyError::TooManyDecimals {
                value: "4500.5".into(),
                currency: Currency::ISK,
                exponent: 0
            }
        );
    }

    #[test]
    fn serializes_like_money() {
        let b = Balance::new(dec("6.1"), Currency::EUR).unwrap();
        assert_eq!(
            serde_json::to_string(&b).unwrap(),
            r#"{"value":"6.10","currency":"EUR"}"#
        );
        let m = Money::parse("6.10", Currency::EUR).unwrap();
        assert_eq!(Balance::from(m), b);
        assert_eq!(b.as_money(), Some(m));
    }
}
