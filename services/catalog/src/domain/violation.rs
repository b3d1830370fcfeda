//! Rule violations found while validating input: all of them, not just the first, each with a
//! machine-readable code and the path of the offending field.

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON-pointer-style path of the offending input (`/characteristics/1/defaultValue`).
    pub field: String,
    /// Stable reason code, e.g. `OUT_OF_RANGE`.
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
}

/// Collects violations while a validator walks its input.
#[derive(Debug, Default)]
pub struct Violations(Vec<Violation>);

impl Violations {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a violation.
    pub fn push(
        &mut self,
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) {
        self.0.push(Violation {
            field: field.into(),
            code,
            message: message.into(),
        });
    }

    /// How many were found so far (lets a validator tell whether its own checks failed).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was found, else every violation.
    pub fn into_result<T>(self, value: T) -> Result<T, Vec<Violation>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0)
        }
    }

    /// The violations found.
    pub fn into_vec(self) -> Vec<Violation> {
        self.0
    }
}

/// Checks a catalog code: 1–64 of `A–Z 0–9 _ -`, starting with a letter or digit.
pub fn check_code(violations: &mut Violations, field: &str, code: &str) {
    let mut chars = code.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    let rest_ok =
        chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !first_ok || !rest_ok || code.len() > 64 {
        violations.push(
            field,
            "INVALID_CODE",
            "must be 1-64 characters of A-Z, 0-9, '_' or '-', starting with a letter or digit",
        );
    }
}

/// Checks a display text: trimmed length within bounds and no control characters other than
/// line breaks and tabs (which only multi-line texts allow).
pub fn check_text(
    violations: &mut Violations,
    field: &str,
    text: &str,
    max: usize,
    multiline: bool,
) {
    let length = text.chars().count();
    if text.trim().is_empty() {
        violations.push(field, "REQUIRED", "must not be blank");
    } else if length > max {
        violations.push(
            field,
            "TOO_LONG",
            format!("must be at most {max} characters"),
        );
    }
    let bad_control = text
        .chars()
        .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')));
    if bad_control {
        violations.push(
            field,
            "INVALID_CHARACTER",
            "must not contain control characters",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_texts_are_checked() {
        let mut v = Violations::new();
        check_code(&mut v, "/code", "INTERNET-1G_X");
        check_text(&mut v, "/name", "Business Internet — 1 Gb/s", 200, false);
        check_text(&mut v, "/description", "line one\nline two", 4000, true);
        assert!(v.is_empty());
        check_code(&mut v, "/code", "lower");
        check_code(&mut v, "/code", "");
        check_text(&mut v, "/name", "   ", 200, false);
        check_text(&mut v, "/name", "tab\there", 200, false);
        check_text(&mut v, "/name", &"x".repeat(201), 200, false);
        let codes: Vec<_> = v.into_vec().into_iter().map(|x| x.code).collect();
        assert_eq!(
            codes,
            [
                "INVALID_CODE",
                "INVALID_CODE",
                "REQUIRED",
                "INVALID_CHARACTER",
                "TOO_LONG"
            ]
        );
    }
}
