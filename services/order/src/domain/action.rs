//! What an order item does to the installed base (TMF622 `action`). The action is explicit on
//! every item: MODIFY and DELETE name the product instance they change, ADD creates one, and
//! NO_CHANGE only gives an add-on its parent.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What an order item does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ItemAction {
    /// A new product instance.
    Add,
    /// Changes an existing product instance.
    Modify,
    /// Disconnects an existing product instance.
    Delete,
    /// An existing product instance, unchanged (the parent of an added add-on).
    NoChange,
}

impl ItemAction {
    /// Every action.
    pub const ALL: [Self; 4] = [Self::Add, Self::Modify, Self::Delete, Self::NoChange];

    /// The wire and stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Add => "ADD",
            Self::Modify => "MODIFY",
            Self::Delete => "DELETE",
            Self::NoChange => "NO_CHANGE",
        }
    }

    /// Reads a wire or stored name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == value)
    }

    /// Whether the item must name the product instance it changes (MODIFY, DELETE).
    pub fn needs_product_instance(self) -> bool {
        matches!(self, Self::Modify | Self::Delete)
    }
}

impl fmt::Display for ItemAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for action in ItemAction::ALL {
            assert_eq!(ItemAction::parse(action.as_str()), Some(action));
            let wire = serde_json::to_string(&action).unwrap();
            assert_eq!(wire, format!("\"{}\"", action.as_str()));
            assert_eq!(serde_json::from_str::<ItemAction>(&wire).unwrap(), action);
        }
        assert!(ItemAction::Modify.needs_product_instance());
        assert!(ItemAction::Delete.needs_product_instance());
        assert!(!ItemAction::Add.needs_product_instance());
        assert!(!ItemAction::NoChange.needs_product_instance());
    }
}
