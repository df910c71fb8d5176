//! Schema-building helpers and the value conversions every resource shares.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tf_provider::schema::{
    Attribute, AttributeConstraint, AttributeType, Block, Description, Schema,
};
use tf_provider::value::Value;

/// An attribute with a Markdown description.
pub(crate) fn attr(
    attr_type: AttributeType,
    constraint: AttributeConstraint,
    description: &str,
) -> Attribute {
    Attribute {
        attr_type,
        description: Description::markdown(description),
        constraint,
        ..Default::default()
    }
}

/// The attribute, marked sensitive.
pub(crate) fn sensitive(mut attribute: Attribute) -> Attribute {
    attribute.sensitive = true;
    attribute
}

/// The attributes as a block (schema version 0).
pub(crate) fn block<const N: usize>(
    description: &str,
    attributes: [(&str, Attribute); N],
) -> Block {
    Block {
        version: 0,
        attributes: attributes
            .into_iter()
            .map(|(name, attribute)| (name.to_owned(), attribute))
            .collect::<HashMap<_, _>>(),
        description: Description::markdown(description),
        ..Default::default()
    }
}

/// A schema of one block.
pub(crate) fn block_schema<const N: usize>(
    description: &str,
    attributes: [(&str, Attribute); N],
) -> Schema {
    Schema {
        version: 0,
        block: block(description, attributes),
    }
}

/// The configured value, else `default` (unknown stays unknown).
pub(crate) fn or_default<T>(value: &Value<T>, default: T) -> Value<T>
where
    T: Clone,
{
    match value {
        Value::Value(v) => Value::Value(v.clone()),
        Value::Null => Value::Value(default),
        Value::Unknown => Value::Unknown,
    }
}

/// A Terraform number that may have a fraction. Terraform sends a number that a float64
/// cannot hold exactly (0.2) as a decimal string, and compares numbers exactly, so it goes
/// back as the shortest decimal that reads as the same float: `0.2`, not
/// `0.200000000000000011102230246251565404236316680908203125`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Num(pub(crate) f64);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        const EXACT_INT: f64 = 9_007_199_254_740_992.0; // 2^53
        if self.0.fract() == 0.0 && self.0.abs() < EXACT_INT {
            #[expect(
                clippy::cast_possible_truncation,
                reason = "an integral value below 2^53 converts exactly"
            )]
            serializer.serialize_i64(self.0 as i64)
        } else {
            serializer.serialize_str(&self.0.to_string())
        }
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Num;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number")
            }
            #[expect(
                clippy::cast_precision_loss,
                reason = "Terraform numbers here are small"
            )]
            fn visit_i64<E>(self, v: i64) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
            #[expect(
                clippy::cast_precision_loss,
                reason = "Terraform numbers here are small"
            )]
            fn visit_u64<E>(self, v: u64) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Num, E> {
                Ok(Num(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Num, E> {
                v.parse().map(Num).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::Num;

    #[test]
    fn fractional_numbers_travel_as_their_shortest_decimal() {
        let bytes = rmp_serde::to_vec(&Num(0.2)).expect("encode");
        let text: String = rmp_serde::from_slice(&bytes).expect("a string");
        assert_eq!(text, "0.2");
        let back: Num = rmp_serde::from_slice(&bytes).expect("decode");
        assert_eq!(back, Num(0.2));
        let two: Num =
            rmp_serde::from_slice(&rmp_serde::to_vec(&Num(2.0)).expect("encode")).expect("decode");
        assert_eq!(two, Num(2.0));
    }
}
