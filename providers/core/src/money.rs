//! Exact money: a positive decimal amount in an ISO 4217 currency that respects the
//! currency's minor units. Every vendor amount is converted to and from this type at the
//! vendor's edge, so the rest of the gateway never sees a float or a mis-scaled value.

use std::fmt;

use rust_decimal::Decimal;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// An ISO 4217 currency. The exponent (minor units) comes from the maintained
/// `iso_currency` table rather than a hand-written list: ISK has 0, EUR 2, KWD 3.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    pub const EUR: Currency = Currency(iso_currency::Currency::EUR);
    pub const ISK: Currency = Currency(iso_currency::Currency::ISK);

    /// Parses an upper-case ISO 4217 code. Currencies without minor units defined by ISO
    /// (gold, SDR, ...) are refused: refunds are never made in them.
    pub fn from_code(code: &str) -> Result<Self, MoneyError> {
        let c = iso_currency::Currency::from_code(code)
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_string()))?;
        if c.exponent().is_none() {
            return Err(MoneyError::UnknownCurrency(code.to_string()));
        }
        Ok(Currency(c))
    }

    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    /// Number of minor-unit digits (0 for ISK, 2 for EUR, 3 for KWD).
    pub fn exponent(&self) -> u32 {
        u32::from(self.0.exponent().unwrap_or(0))
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Currency::from_code(&code).map_err(de::Error::custom)
    }
}

/// Why an amount was refused. Each variant is a rule of `Money`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown or non-monetary currency code `{0}` (expected an ISO 4217 code such as EUR)")]
    UnknownCurrency(String),
    #[error("amount must be a decimal string such as \"10.00\", not a JSON number")]
    NotAString,
    #[error("`{0}` is not a decimal amount")]
    NotADecimal(String),
    #[error("amount must be greater than zero")]
    NotPositive,
    #[error("amount must not be negative")]
    Negative,
    #[error("{currency} has {exponent} decimal places; `{value}` has more")]
    TooManyDecimals {
        value: String,
        currency: Currency,
        exponent: u32,
    },
}

/// A strictly positive amount with no more decimals than its currency allows. Construction
/// is the only place these rules are checked; a `Money` in hand is always valid.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    value: Decimal,
    currency: Currency,
}

impl Money {
    pub fn new(value: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        if value <= Decimal::ZERO {
            return Err(MoneyError::NotPositive);
        }
        let normalized = value.normalize();
        if normalized.scale() > currency.exponent() {
            return Err(MoneyError::TooManyDecimals {
                value: value.to_string(),
                currency,
                exponent: currency.exponent(),
            });
        }
        let mut value = normalized;
        value.rescale(currency.exponent());
        Ok(Money { value, currency })
    }

    /// Parses a decimal string such as `"10.00"`; exponents and floats are refused, and so
    /// is a value a decimal cannot hold exactly (more than 28 decimals: `from_str` would
    /// round it, `from_str_exact` refuses it).
    pub fn parse(value: &str, currency: Currency) -> Result<Self, MoneyError> {
        if !canonical_decimal(value) {
            return Err(MoneyError::NotADecimal(value.to_string()));
        }
        let parsed = Decimal::from_str_exact(value)
            .map_err(|_| MoneyError::NotADecimal(value.to_string()))?;
        Money::new(parsed, currency)
    }

    /// Converts a vendor's decimal (which may carry trailing zeros, e.g. `15.000000`) into
    /// `Money`, refusing values that do not fit the currency instead of rounding them.
    pub fn from_vendor(value: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        Money::new(value, currency)
    }

    pub fn value(&self) -> Decimal {
        self.value
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The amount as a whole number of major units, or `None` when it has a fractional
    /// part: for vendors that take only whole units and must never be sent a rounded value.
    pub fn whole_units(&self) -> Option<i64> {
        use rust_decimal::prelude::ToPrimitive;
        if self.value.fract().is_zero() {
            self.value.to_i64()
        } else {
            None
        }
    }
}

/// The one decimal grammar clients may write: digits without a leading zero (unless the
/// integer part is `0`), then optionally `.` and at least one digit; a leading `-` is read
/// so that it can be refused as "not positive". Nothing else: no spaces, no `+`, no `10.`,
/// no `00010`, no exponent.
fn canonical_decimal(value: &str) -> bool {
    let unsigned = value.strip_prefix('-').unwrap_or(value);
    let (int, frac) = match unsigned.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(int) && (int == "0" || !int.starts_with('0')) && frac.is_none_or(digits)
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.value, self.currency)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.value, self.currency)
    }
}

#[derive(Serialize)]
struct MoneyWire<'a> {
    value: String,
    currency: &'a str,
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        MoneyWire {
            value: self.value.to_string(),
            currency: self.currency.code(),
        }
        .serialize(s)
    }
}

/// The JSON form `{"value": "10.00", "currency": "EUR"}`. `value` is taken as raw JSON so
/// that a float gets its own clear error instead of a generic type mismatch.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MoneyInput {
    value: serde_json::Value,
    currency: String,
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let input = MoneyInput::deserialize(d)?;
        let currency = Currency::from_code(&input.currency).map_err(de::Error::custom)?;
        match input.value {
            serde_json::Value::String(s) => Money::parse(&s, currency).map_err(de::Error::custom),
            _ => Err(de::Error::custom(MoneyError::NotAString)),
        }
    }
}

impl utoipa::PartialSchema for Money {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .description(Some(
                "An exact amount: a decimal string with no more decimals than the currency's \
                 minor units (EUR 2, ISK 0), and an ISO 4217 code. Floats are refused.",
            ))
            .property(
                "value",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(r"^[0-9]+(\.[0-9]+)?$"))
                    .examples([serde_json::json!("10.00")]),
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

impl utoipa::ToSchema for Money {}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros_free::dec;

    mod rust_decimal_macros_free {
        pub fn dec(s: &str) -> rust_decimal::Decimal {
            s.parse().unwrap()
        }
    }

    #[test]
    fn respects_minor_units() {
        assert_eq!(Currency::ISK.exponent(), 0);
        assert_eq!(Currency::EUR.exponent(), 2);
        assert_eq!(Currency::from_code("KWD").unwrap().exponent(), 3);
        assert!(Money::parse("10.5", Currency::ISK).is_err());
        assert!(Money::parse("10.001", Currency::EUR).is_err());
        assert_eq!(
            Money::parse("10.1", Currency::EUR)
                .unwrap()
                .value()
                .to_string(),
            "10.10"
        );
        assert_eq!(
            Money::parse("1500", Currency::ISK)
                .unwrap()
                .value()
                .to_string(),
            "1500"
        );
        // Trailing zeros beyond the exponent are not extra precision.
        assert!(Money::from_vendor(dec("15.000000"), Currency::EUR).is_ok());
    }

    #[test]
    fn refuses_zero_negative_and_garbage() {
        assert_eq!(
            Money::parse("0", Currency::EUR),
            Err(MoneyError::NotPositive)
        );
        assert_eq!(
            Money::parse("-1", Currency::EUR),
            Err(MoneyError::NotPositive)
        );
        assert!(matches!(
            Money::parse("1e3", Currency::EUR),
            Err(MoneyError::NotADecimal(_))
        ));
        assert!(matches!(
            Money::parse("", Currency::EUR),
            Err(MoneyError::NotADecimal(_))
        ));
        assert!(Currency::from_code("XAU").is_err());
        assert!(Currency::from_code("EURO").is_err());
    }

    #[test]
    fn only_the_canonical_decimal_grammar_is_read() {
        for bad in [
            " 10", "10 ", "+10", "10.", ".5", "00010", "01.50", "1_000", "1,5", "0x10", "--1",
        ] {
            assert!(
                matches!(
                    Money::parse(bad, Currency::EUR),
                    Err(MoneyError::NotADecimal(_))
                ),
                "{bad:?} must be refused"
            );
        }
        // Rounded by `Decimal::from_str` to 1 ISK: refused instead.
        assert!(matches!(
            Money::parse("1.00000000000000000000000000001", Currency::ISK),
            Err(MoneyError::NotADecimal(_))
        ));
        for good in ["10", "0.50", "10.5", "123456.78"] {
            assert!(Money::parse(good, Currency::EUR).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn json_refuses_floats() {
        let err = serde_json::from_str::<Money>(r#"{"value": 10.0, "currency": "EUR"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a JSON number"), "{err}");
        let ok: Money = serde_json::from_str(r#"{"value": "10", "currency": "EUR"}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&ok).unwrap(),
            r#"{"value":"10.00","currency":"EUR"}"#
        );
    }

    #[test]
    fn whole_units_never_round() {
        assert_eq!(
            Money::parse("10.00", Currency::EUR).unwrap().whole_units(),
            Some(10)
        );
        assert_eq!(
            Money::parse("10.50", Currency::EUR).unwrap().whole_units(),
            None
        );
        assert_eq!(
            Money::parse("1500", Currency::ISK).unwrap().whole_units(),
            Some(1500)
        );
    }
}
