//! Reading JSON strictly, before any typed parsing: an object that names a key twice and a
//! string holding a control character (NUL included) are refused with a pointer to the
//! place, where serde_json alone would keep the last duplicate and pass the NUL on to the
//! ledger.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Deserializer;
use serde_json::{Map, Value};

/// The document as a `Value`, or the pointer and reason of its first strictness fault (or
/// of its syntax error, with an empty pointer).
pub fn parse(bytes: &[u8]) -> Result<Value, Fault> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let syntax = e.inner().is_syntax() || e.inner().is_eof();
        let message = super::body::strip_position(&e.inner().to_string());
        Fault {
            pointer: super::body::pointer_of(e.path(), &message),
            message,
            syntax,
        }
    });
    let value: Strict = value?;
    de.end().map_err(|e| Fault {
        pointer: String::new(),
        message: super::body::strip_position(&e.to_string()),
        syntax: true,
    })?;
    Ok(value.0)
}

/// Why a document was refused.
#[derive(Debug)]
pub struct Fault {
    pub pointer: String,
    pub message: String,
    /// Not JSON at all (as opposed to JSON we refuse).
    pub syntax: bool,
}

struct Strict(Value);

impl<'de> de::Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

fn text<E: de::Error>(s: &str) -> Result<Value, E> {
    match s.chars().find(|c| c.is_control()) {
        Some(c) => Err(E::custom(format!(
            "text may not contain control characters (found U+{:04X})",
            c as u32
        ))),
        None => Ok(Value::String(s.to_string())),
    }
}

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        text(v)
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        text(&v)
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut seen = HashSet::new();
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if key.chars().any(char::is_control) {
                return Err(de::Error::custom(
                    "a key may not contain control characters",
                ));
            }
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!(
                    "duplicate key `{key}`: a key may appear once per object"
                )));
            }
            let Strict(value) = map.next_value_seed(KeyedValue)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// A map value, read strictly (a seed so the path tracker sees the key first).
struct KeyedValue;

impl<'de> DeserializeSeed<'de> for KeyedValue {
    type Value = Strict;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Strict, D::Error> {
        <Strict as de::Deserialize>::deserialize(d)
    }
}

/// The places of `value` that must hold objects (struct-typed fields), refused with their
/// pointer when they hold anything else: serde would read an array there as the struct's
/// fields in order. `*` in a pattern matches every index of an array.
pub fn require_objects(value: &Value, patterns: &[&str]) -> Result<(), (String, String)> {
    for pattern in patterns {
        let mut places = vec![(String::new(), value)];
        for segment in pattern.split('/').skip(1) {
            places = places
                .into_iter()
                .flat_map(|(at, v)| match (segment, v) {
                    ("*", Value::Array(items)) => items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| (format!("{at}/{i}"), item))
                        .collect::<Vec<_>>(),
                    (key, Value::Object(map)) => map
                        .get(key)
                        .map(|v| vec![(format!("{at}/{key}"), v)])
                        .unwrap_or_default(),
                    _ => Vec::new(),
                })
                .collect();
        }
        if let Some((at, _)) = places
            .into_iter()
            .find(|(_, v)| !matches!(v, Value::Object(_) | Value::Null))
        {
            return Err((at, "must be a JSON object".into()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_duplicates_and_control_characters_with_their_place() {
        let dup = parse(br#"{"a": {"b": 1, "b": 2}}"#).unwrap_err();
        assert_eq!(dup.pointer, "/a/b");
        assert!(dup.message.contains("once per object"), "{}", dup.message);
        let nul = parse(b"{\"reason\": \"x\\u0000y\"}").unwrap_err();
        assert_eq!(nul.pointer, "/reason");
        let tab = parse(b"{\"m\": {\"k\": [\"ok\", \"a\\tb\"]}}").unwrap_err();
        assert_eq!(tab.pointer, "/m/k/1");
        assert!(parse(b"{\"a\": 1").unwrap_err().syntax);
        assert!(parse(br#"{"a": 1} x"#).unwrap_err().syntax);
        assert_eq!(
            parse(br#"{"a": [1, "x", null, true, 1.5]}"#).unwrap(),
            serde_json::json!({"a": [1, "x", null, true, 1.5]})
        );
    }

    #[test]
    fn struct_places_must_be_objects() {
        let body = serde_json::json!({"target": ["1"], "items": [{"target": {}}, {"target": 3}]});
        assert_eq!(
            require_objects(&body, &["/target"]).unwrap_err().0,
            "/target"
        );
        assert_eq!(
            require_objects(&body, &["/items/*/target"]).unwrap_err().0,
            "/items/1/target"
        );
        assert!(require_objects(&serde_json::json!({"x": 1}), &["/target"]).is_ok());
    }
}
