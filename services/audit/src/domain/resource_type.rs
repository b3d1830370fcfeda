//! Resource types as the audit log names them: upper snake case (`QUOTE`,
//! `APPROVAL_REQUEST`), whatever spelling the submitting service used for its aggregate
//! (`Quote`, `ApprovalRequest`). One spelling makes dispute queries independent of which
//! service wrote the evidence; the submitted spelling is not lost (the entry keeps the
//! evidence it came from under `source`).

use std::fmt;

/// A normalised resource type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceType(String);

impl ResourceType {
    /// Normalises `Quote`, `quote`, `approval-request`, `ApprovalRequest` or `APPROVAL_REQUEST`;
    /// `None` for an empty name or one with characters other than letters, digits, `_`, `-`,
    /// `.` or spaces.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        if raw.is_empty()
            || raw.len() > 100
            || !raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ' '))
        {
            return None;
        }
        let mut out = String::with_capacity(raw.len() + 4);
        let mut previous: Option<char> = None;
        for c in raw.chars() {
            if matches!(c, '_' | '-' | '.' | ' ') {
                if !out.is_empty() && !out.ends_with('_') {
                    out.push('_');
                }
            } else {
                let starts_word = c.is_ascii_uppercase()
                    && previous.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit());
                if starts_word && !out.ends_with('_') {
                    out.push('_');
                }
                out.push(c.to_ascii_uppercase());
            }
            previous = Some(c);
        }
        let trimmed = out.trim_end_matches('_');
        (!trimmed.is_empty()).then(|| Self(trimmed.to_owned()))
    }

    /// The normalised name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_a_type_is_one_name() {
        for (raw, expected) in [
            ("Quote", "QUOTE"),
            ("QUOTE", "QUOTE"),
            ("quote", "QUOTE"),
            ("ApprovalRequest", "APPROVAL_REQUEST"),
            ("approval-request", "APPROVAL_REQUEST"),
            ("APPROVAL_REQUEST", "APPROVAL_REQUEST"),
            ("ProductInstance", "PRODUCT_INSTANCE"),
            ("ExternalOperation", "EXTERNAL_OPERATION"),
            ("Fallout", "FALLOUT"),
        ] {
            assert_eq!(
                ResourceType::parse(raw).unwrap().as_str(),
                expected,
                "{raw}"
            );
        }
        for bad in ["", "  ", "Quote;DROP", "_", "a/b"] {
            assert_eq!(ResourceType::parse(bad), None, "{bad}");
        }
    }
}
