//! Small validated values of the approval domain. Each is parsed once at the edge, so the
//! aggregate never holds a malformed hash, an empty reason or a revision below one.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Not 64 lowercase hexadecimal characters.
    #[error("a price hash is 64 lowercase hexadecimal characters (SHA-256)")]
    PriceHash,
    /// A quote revision starts at 1.
    #[error("a quote revision is at least 1")]
    Revision,
    /// Empty or blank text, or longer than allowed.
    #[error("{what} must be 1-{max} characters and not blank")]
    Text {
        /// Which value.
        what: &'static str,
        /// Its maximum length.
        max: usize,
    },
}

/// The SHA-256 of a priced quote (CPQ's price hash), hex. An approval covers exactly one hash:
/// "approving one number and ordering another" is the failure it prevents.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PriceHash(String);

impl PriceHash {
    /// Accepts 64 lowercase hexadecimal characters.
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        let ok = value.len() == 64
            && value
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| Self(value.to_owned()))
            .ok_or(ValueError::PriceHash)
    }

    /// The hex text, for storage and events.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PriceHash {
    type Error = ValueError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PriceHash> for String {
    fn from(value: PriceHash) -> Self {
        value.0
    }
}

impl fmt::Display for PriceHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A quote revision (1, 2, …): approval evidence maps to the exact revision approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i32", into = "i32")]
pub struct QuoteRevision(i32);

impl QuoteRevision {
    /// Accepts 1 and above.
    pub fn new(value: i32) -> Result<Self, ValueError> {
        (value >= 1)
            .then_some(Self(value))
            .ok_or(ValueError::Revision)
    }

    /// The number as stored.
    pub const fn get(self) -> i32 {
        self.0
    }
}

impl TryFrom<i32> for QuoteRevision {
    type Error = ValueError;

    fn try_from(value: i32) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<QuoteRevision> for i32 {
    fn from(value: QuoteRevision) -> Self {
        value.0
    }
}

impl fmt::Display for QuoteRevision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

fn text(value: &str, what: &'static str, max: usize) -> Result<String, ValueError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > max {
        return Err(ValueError::Text { what, max });
    }
    Ok(trimmed.to_owned())
}

/// A business reason an actor gave (a reject, a recall, a reassignment): audit answers "why",
/// so where a reason is required the type makes it impossible to omit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Reason(String);

impl Reason {
    /// Maximum length in characters.
    pub const MAX: usize = 1000;

    /// Accepts 1–1000 characters after trimming.
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        text(value, "a reason", Self::MAX).map(Self)
    }

    /// The text as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Reason {
    type Error = ValueError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Reason> for String {
    fn from(value: Reason) -> Self {
        value.0
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An approver group (a team in the identity provider or Tasklist candidate group): chain
/// levels are assigned to groups, and escalation moves a level to the next group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GroupId(String);

impl GroupId {
    /// Accepts 1–128 characters after trimming.
    pub fn parse(value: &str) -> Result<Self, ValueError> {
        text(value, "a group id", 128).map(Self)
    }

    /// The id as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for GroupId {
    type Error = ValueError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<GroupId> for String {
    fn from(value: GroupId) -> Self {
        value.0
    }
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_hashes_are_lowercase_sha256_hex() {
        let good = "a".repeat(64);
        assert_eq!(PriceHash::parse(&good).map(|h| h.to_string()), Ok(good));
        assert_eq!(
            PriceHash::parse(&"A".repeat(64)),
            Err(ValueError::PriceHash)
        );
        assert_eq!(
            PriceHash::parse(&"a".repeat(63)),
            Err(ValueError::PriceHash)
        );
        assert_eq!(
            PriceHash::parse(&"g".repeat(64)),
            Err(ValueError::PriceHash)
        );
        assert!(serde_json::from_value::<PriceHash>(serde_json::json!("xyz")).is_err());
    }

    #[test]
    fn revisions_reasons_and_groups_are_checked() {
        assert_eq!(QuoteRevision::new(0), Err(ValueError::Revision));
        assert_eq!(QuoteRevision::new(2).map(QuoteRevision::get), Ok(2));
        assert!(Reason::parse("  ").is_err());
        assert!(Reason::parse(&"x".repeat(1001)).is_err());
        assert_eq!(
            Reason::parse(" too deep ").map(String::from),
            Ok("too deep".to_owned())
        );
        assert!(GroupId::parse("").is_err());
        assert!(serde_json::from_value::<Reason>(serde_json::json!("")).is_err());
    }
}
