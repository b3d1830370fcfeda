//! Record keys on the wire: Camunda 8's REST API v2 writes 64-bit keys as strings (JavaScript
//! numbers lose precision past 2^53), so this API does too; filters also accept numbers, which
//! older clients send.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use utoipa::ToSchema;

/// A record key: a decimal string in responses, a string or number in requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ToSchema)]
#[schema(value_type = String, example = "2251799813685249")]
pub struct Key(i64);

impl Key {
    /// Wraps a stored key.
    pub fn new(key: i64) -> Self {
        Self(key)
    }

    /// The key as stored.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl Serialize for Key {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i64),
            Text(String),
        }
        match Raw::deserialize(deserializer) {
            Ok(Raw::Number(n)) => Ok(Self(n)),
            Ok(Raw::Text(text)) => text.trim().parse().map(Self).map_err(|_| {
                de::Error::custom(format!("'{text}' is not a key (a 64-bit integer)"))
            }),
            Err(_) => Err(de::Error::custom(
                "expected a key: a 64-bit integer, as a string or a number",
            )),
        }
    }
}
