//! Vendors' amounts, read and added up exactly.
//!
//! Reading: `rust_decimal`'s own `Deserialize` reads a JSON number through an `f64`
//! (serde_json has no `arbitrary_precision` here), so `12345678901234567.89` silently became
//! `12345678901234568`. The helpers below read the number's own JSON text instead
//! (serde_json's `RawValue`) and parse it with `Decimal::from_str_exact`: an amount is either
//! held exactly or refused, never rounded. A refusal is a deserialisation error, which
//! `vendor_response::read_json` turns into `BadResponse`. Amounts sent as JSON strings are
//! read by the same exact parser.
//!
//! Adding up: `Decimal`'s `+`, `-` and `Sum` panic on overflow, and vendors choose the
//! numbers (anything up to about ±7.9e28 reads), so every sum or difference of vendor
//! amounts is checked and an overflow is the vendor's numbers not adding up: `BadResponse`.

use std::borrow::Cow;
use std::fmt;

use rust_decimal::Decimal;
use serde::{de, Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::error::{ErrorKind, ProviderError};

/// The sum of `values`, or `None` when it leaves the range of a `Decimal`.
pub fn checked_sum<I: IntoIterator<Item = Decimal>>(values: I) -> Option<Decimal> {
    values
        .into_iter()
        .try_fold(Decimal::ZERO, |sum, v| sum.checked_add(v))
}

/// The error for vendor amounts whose sum or difference (`what`) leaves the range of an
/// exact decimal: the vendor's numbers do not add up, so its answer cannot be used.
pub fn out_of_range(what: impl fmt::Display) -> ProviderError {
    ProviderError::new(
        ErrorKind::BadResponse,
        format!(
            "the vendor's amounts do not add up: {what} is out of range (beyond about ±7.9e28), \
             so its answer cannot be used"
        ),
    )
}

/// A vendor decimal read exactly from its JSON text (number or string). For use as a field
/// type where `deserialize_with` cannot reach (map values, sequences).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExactDecimal(pub Decimal);

impl<'de> Deserialize<'de> for ExactDecimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Owned, not `&RawValue`: it also reads through `serde_json::Value`, which renders
        // the value back to text (the vendor crates' tests and sandboxes do that).
        let raw = Box::<RawValue>::deserialize(d)?;
        parse_exact(raw.get())
            .map(ExactDecimal)
            .map_err(de::Error::custom)
    }
}

/// `#[serde(deserialize_with = "refund_provider::vendor_decimal::exact")]` on a `Decimal`.
pub fn exact<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    ExactDecimal::deserialize(d).map(|e| e.0)
}

/// `#[serde(default, deserialize_with = "refund_provider::vendor_decimal::exact_opt")]` on
/// an `Option<Decimal>`: `null` is `None`.
pub fn exact_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    Ok(Option::<ExactDecimal>::deserialize(d)?.map(|e| e.0))
}

/// Parses one JSON value's text (a number, or a string holding one) into the decimal it
/// says, or says why it cannot be held exactly.
fn parse_exact(json: &str) -> Result<Decimal, String> {
    let text: Cow<str> = if json.starts_with('"') {
        Cow::Owned(serde_json::from_str::<String>(json).map_err(|e| e.to_string())?)
    } else {
        Cow::Borrowed(json)
    };
    // `from_scientific` scales exactly (or fails) but reads its mantissa with the rounding
    // `from_str`, so the mantissa is checked with the exact parser first.
    let parsed = match text.split_once(['e', 'E']) {
        Some((mantissa, _)) => {
            Decimal::from_str_exact(mantissa).and_then(|_| Decimal::from_scientific(&text))
        }
        None => Decimal::from_str_exact(&text),
    };
    parsed.map_err(|e| {
        format!(
            "the amount `{}` cannot be held exactly ({e}); it is refused, never rounded",
            snippet(&text)
        )
    })
}

/// A vendor's text in an error, cut short: an amount is short, garbage may not be.
fn snippet(text: &str) -> &str {
    match text.char_indices().nth(60) {
        Some((cut, _)) => &text[..cut],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Wire {
        #[serde(deserialize_with = "exact")]
        amount: Decimal,
        #[serde(default, deserialize_with = "exact_opt")]
        fee: Option<Decimal>,
    }

    fn read(json: &str) -> Result<Wire, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn numbers_are_read_from_their_text_not_through_f64() {
        let w = read(r#"{"amount": 12345678901234567.89}"#).unwrap();
        assert_eq!(w.amount.to_string(), "12345678901234567.89");
        for (text, exact) in [
            ("10.5", "10.5"),
            ("16.1", "16.1"),
            ("0.1", "0.1"),
            ("50.000000", "50.000000"),
            ("-12.345678", "-12.345678"),
            ("1500", "1500"),
            ("1.5e2", "150"),
            ("25E-1", "2.5"),
        ] {
            let w = read(&format!(r#"{{"amount": {text}}}"#)).unwrap();
            assert_eq!(w.amount.to_string(), exact, "{text}");
        }
    }

    #[test]
    fn strings_and_nulls_keep_working() {
        let w = read(r#"{"amount": "10.50", "fee": null}"#).unwrap();
        assert_eq!((w.amount.to_string(), w.fee), ("10.50".to_string(), None));
        let w = read(r#"{"amount": "7", "fee": 1.1}"#).unwrap();
        assert_eq!(w.fee.unwrap().to_string(), "1.1");
        let w = read(r#"{"amount": 1}"#).unwrap();
        assert!(w.fee.is_none());
    }

    #[test]
    fn amounts_that_cannot_be_held_exactly_are_refused_not_rounded() {
        for text in [
            // 30 significant digits: Decimal holds 28-29.
            "0.123456789012345678901234567890",
            "\"0.123456789012345678901234567890\"",
            // Beyond Decimal::MAX.
            "79228162514264337593543950336",
            "1e30",
            "1.00000000000000000000000000001e2",
            "\"ten\"",
            "true",
        ] {
            let e = read(&format!(r#"{{"amount": {text}}}"#)).unwrap_err();
            assert!(
                e.contains("cannot be held exactly") || e.contains("invalid type"),
                "{text}: {e}"
            );
        }
    }

    #[test]
    fn reads_through_a_json_value_too() {
        let value = serde_json::json!({"amount": 16.1, "fee": "0.70"});
        let w: Wire = serde_json::from_value(value).unwrap();
        assert_eq!(
            (w.amount.to_string(), w.fee.unwrap().to_string()),
            ("16.1".to_string(), "0.70".to_string())
        );
    }

    #[test]
    fn sums_are_checked() {
        let big = Decimal::MAX;
        assert_eq!(checked_sum([big, Decimal::ONE]), None);
        assert_eq!(checked_sum([big, -big, Decimal::ONE]), Some(Decimal::ONE));
        assert_eq!(checked_sum(Vec::new()), Some(Decimal::ZERO));
        let e = out_of_range("the sum of the refunds");
        assert_eq!(e.kind, ErrorKind::BadResponse);
        assert!(
            e.message.contains("the sum of the refunds"),
            "{}",
            e.message
        );
    }
}
