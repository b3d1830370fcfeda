//! Identifier newtypes.
//!
//! Every aggregate id is a UUID v7 (time-ordered, so B-tree indexes stay compact) wrapped in its
//! own type, so a quote id can never be passed where an order id is expected.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Declares a UUID v7 identifier newtype with parsing, display and serde support.
#[macro_export]
macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name($crate::__private::uuid::Uuid);

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                $crate::__private::serde::Serialize::serialize(&self.0, serializer)
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                <$crate::__private::uuid::Uuid as $crate::__private::serde::Deserialize>::deserialize(deserializer).map(Self)
            }
        }

        impl $name {
            /// A fresh, time-ordered identifier.
            pub fn generate() -> Self {
                Self($crate::__private::uuid::Uuid::now_v7())
            }

            /// Wraps an identifier read from storage or a validated request.
            pub const fn from_uuid(value: $crate::__private::uuid::Uuid) -> Self {
                Self(value)
            }

            /// The raw UUID, for storage and wire formats.
            pub const fn as_uuid(&self) -> $crate::__private::uuid::Uuid {
                self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0, f)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::__private::uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::__private::uuid::Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// Identifies one business event in the outbox and on the wire; consumers dedupe by it.
    EventId
);
uuid_id!(
    /// Identifies one command execution; events and audit evidence name it as their cause.
    CommandId
);

/// Why an identifier string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The value was empty or only whitespace.
    #[error("must not be empty")]
    Empty,
    /// The value exceeded the maximum length.
    #[error("must be at most {max} characters")]
    TooLong {
        /// Maximum accepted length.
        max: usize,
    },
    /// The value contained a character outside the allowed set.
    #[error("contains a character that is not allowed: {allowed}")]
    BadCharacter {
        /// Human description of the allowed set.
        allowed: &'static str,
    },
}

fn check_token(
    value: &str,
    max: usize,
    allowed: &'static str,
    ok: impl Fn(char) -> bool,
) -> Result<(), IdError> {
    if value.trim().is_empty() {
        return Err(IdError::Empty);
    }
    if value.chars().count() > max {
        return Err(IdError::TooLong { max });
    }
    if !value.chars().all(ok) {
        return Err(IdError::BadCharacter { allowed });
    }
    Ok(())
}

/// The tenant a request acts for; every row and query is scoped by it so tenants never see each
/// other's data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(String);

impl TenantId {
    /// Accepts 1–64 characters of `A–Z a–z 0–9 . _ -`.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        check_token(value, 64, "letters, digits, '.', '_' and '-'", |c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
        })?;
        Ok(Self(value.to_owned()))
    }

    /// The tenant id as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who performs a command: a user id, client id or service name, recorded in history and audit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ActorId(String);

impl ActorId {
    /// Accepts 1–128 printable characters without control characters.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        check_token(value, 128, "printable characters", |c| !c.is_control())?;
        Ok(Self(value.to_owned()))
    }

    /// The actor id as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    uuid_id!(
        /// Test id.
        SampleId
    );

    #[test]
    fn generated_ids_are_v7_and_ordered() {
        let a = SampleId::generate();
        let b = SampleId::generate();
        assert_eq!(a.as_uuid().get_version_num(), 7);
        assert!(a < b);
        assert_eq!(a.to_string().parse::<SampleId>(), Ok(a));
        assert_eq!(SampleId::from_uuid(a.as_uuid()), a);
    }

    #[test]
    fn tenant_ids_are_restricted_tokens() {
        assert!(TenantId::parse("acme-corp_1.eu").is_ok());
        assert_eq!(TenantId::parse(""), Err(IdError::Empty));
        assert!(matches!(
            TenantId::parse("a b"),
            Err(IdError::BadCharacter { .. })
        ));
        assert!(matches!(
            TenantId::parse(&"x".repeat(65)),
            Err(IdError::TooLong { max: 64 })
        ));
    }

    #[test]
    fn actor_ids_refuse_control_characters() {
        assert!(ActorId::parse("jane.doe@example.com").is_ok());
        assert!(ActorId::parse("Søren Ærø").is_ok());
        assert!(matches!(
            ActorId::parse("bad\u{0}id"),
            Err(IdError::BadCharacter { .. })
        ));
    }
}
