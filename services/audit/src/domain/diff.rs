//! What a decision changed: the leaves of `before` and `after` that differ, by JSON pointer,
//! for a resource's timeline. Arrays are compared element by element (a changed line at index
//! 2 is `/items/2/...`), which reads well for the evidence services write.

use serde_json::Value;

/// How one value changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Absent before.
    Added,
    /// Absent after.
    Removed,
    /// Different.
    Changed,
}

impl ChangeKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Removed => "REMOVED",
            Self::Changed => "CHANGED",
        }
    }
}

/// One changed value.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// JSON pointer into the state.
    pub path: String,
    /// What kind of change.
    pub kind: ChangeKind,
    /// The value before (`None` when added).
    pub before: Option<Value>,
    /// The value after (`None` when removed).
    pub after: Option<Value>,
}

/// The changes from `before` to `after`, in pointer order.
pub fn diff(before: Option<&Value>, after: Option<&Value>) -> Vec<Change> {
    let mut changes = Vec::new();
    walk(String::new(), before, after, &mut changes);
    changes
}

fn walk(path: String, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<Change>) {
    match (before, after) {
        (None, None) => {}
        (Some(Value::Object(old)), Some(Value::Object(new))) => {
            let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let child = format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"));
                walk(child, old.get(key), new.get(key), out);
            }
        }
        (Some(Value::Array(old)), Some(Value::Array(new))) => {
            for i in 0..old.len().max(new.len()) {
                walk(format!("{path}/{i}"), old.get(i), new.get(i), out);
            }
        }
        (Some(old), Some(new)) if old == new => {}
        (old, new) => out.push(Change {
            path: if path.is_empty() { "/".into() } else { path },
            kind: match (old, new) {
                (None, _) => ChangeKind::Added,
                (_, None) => ChangeKind::Removed,
                _ => ChangeKind::Changed,
            },
            before: old.cloned(),
            after: new.cloned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn leaves_that_differ_are_named_by_pointer() {
        let before = json!({"status": "DRAFT", "items": [{"price": "10"}], "gone": 1});
        let after =
            json!({"status": "PRICED", "items": [{"price": "9"}, {"price": "5"}], "new": true});
        let changes = diff(Some(&before), Some(&after));
        let summary: Vec<(&str, &str)> = changes
            .iter()
            .map(|c| (c.path.as_str(), c.kind.as_str()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("/gone", "REMOVED"),
                ("/items/0/price", "CHANGED"),
                ("/items/1", "ADDED"),
                ("/new", "ADDED"),
                ("/status", "CHANGED"),
            ]
        );
    }

    #[test]
    fn a_creation_is_one_addition_and_no_change_is_nothing() {
        let after = json!({"a": 1});
        assert_eq!(diff(None, Some(&after))[0].kind, ChangeKind::Added);
        assert_eq!(diff(None, Some(&after))[0].path, "/");
        assert!(diff(Some(&after), Some(&after)).is_empty());
    }
}
