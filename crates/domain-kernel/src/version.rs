//! Optimistic-concurrency versions.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A row version for optimistic concurrency: a writer states the version it read (`If-Match`)
/// and loses with a conflict when someone else wrote in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Version(i64);

impl Version {
    /// The version of a newly created row.
    pub const INITIAL: Self = Self(1);

    /// Wraps a version read from storage.
    pub const fn new(value: i64) -> Self {
        Self(value)
    }

    /// The version the next write produces.
    pub const fn next(self) -> Self {
        Self(self.0 + 1)
    }

    /// The number as stored.
    pub const fn get(self) -> i64 {
        self.0
    }

    /// The strong entity tag for this version (`"3"`).
    pub fn etag(self) -> String {
        format!("\"{}\"", self.0)
    }

    /// Reads an `If-Match` value: `"3"`, `W/"3"` or a bare `3`. `None` when it is not a version.
    pub fn from_if_match(header: &str) -> Option<Self> {
        let trimmed = header.trim();
        let unweak = trimmed.strip_prefix("W/").unwrap_or(trimmed);
        let unquoted = unweak.trim_matches('"');
        unquoted.parse::<i64>().ok().filter(|v| *v > 0).map(Self)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_accepts_the_usual_spellings() {
        assert_eq!(Version::from_if_match("\"3\""), Some(Version::new(3)));
        assert_eq!(Version::from_if_match("W/\"3\""), Some(Version::new(3)));
        assert_eq!(Version::from_if_match("3"), Some(Version::new(3)));
        assert_eq!(Version::from_if_match("\"abc\""), None);
        assert_eq!(Version::from_if_match("\"0\""), None);
        assert_eq!(Version::new(3).etag(), "\"3\"");
        assert_eq!(Version::INITIAL.next(), Version::new(2));
    }
}
