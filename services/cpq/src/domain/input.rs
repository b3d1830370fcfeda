//! Input that breaks a rule, addressed by a JSON pointer into the request, so a client can fix
//! every field at once. Produced by the domain's input checks; the HTTP edge turns a list of
//! them into the problem's `errors[]`.

/// One invalid input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputViolation {
    /// Where (`/items/3/quantity`).
    pub field: String,
    /// Stable reason.
    pub code: String,
    /// Explanation.
    pub message: String,
}

impl InputViolation {
    /// A violation from its parts.
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Collects violations and answers `Ok` only when there were none.
#[derive(Debug, Default)]
pub struct Violations(Vec<InputViolation>);

impl Violations {
    /// Records one violation.
    pub fn push(
        &mut self,
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.0.push(InputViolation::new(field, code, message));
    }

    /// Adds violations found elsewhere.
    pub fn extend(&mut self, more: impl IntoIterator<Item = InputViolation>) {
        self.0.extend(more);
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when clean, else every violation.
    pub fn finish(self) -> Result<(), Vec<InputViolation>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}
