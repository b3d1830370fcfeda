//! The rules, one module per family. Each reads the quote and the shared [`QuoteIndex`] and
//! adds what it finds to [`Findings`]; none stops at the first problem.

pub(crate) mod characteristics;
pub(crate) mod relationships;
pub(crate) mod structure;

use serde_json::Value;

use crate::model::QuoteItem;
use crate::violation::{Violation, ViolationCode};

pub(crate) use structure::QuoteIndex;

/// Violations collected so far: per item (by input position) and quote-level.
#[derive(Debug)]
pub(crate) struct Findings<'q> {
    items: &'q [QuoteItem],
    pub(crate) per_item: Vec<Vec<Violation>>,
    pub(crate) quote: Vec<Violation>,
}

impl<'q> Findings<'q> {
    pub(crate) fn new(items: &'q [QuoteItem]) -> Self {
        Self {
            items,
            per_item: vec![Vec::new(); items.len()],
            quote: Vec::new(),
        }
    }

    /// Records a violation of the item at `index`.
    pub(crate) fn item(
        &mut self,
        index: usize,
        code: ViolationCode,
        path: String,
        message: impl Into<String>,
        details: Value,
    ) {
        if let (Some(item), Some(list)) = (self.items.get(index), self.per_item.get_mut(index)) {
            list.push(Violation {
                item_id: Some(item.id.clone()),
                code,
                path,
                message: message.into(),
                details,
            });
        }
    }

    /// Records a quote-level violation.
    pub(crate) fn quote(
        &mut self,
        code: ViolationCode,
        path: String,
        message: impl Into<String>,
        details: Value,
    ) {
        self.quote.push(Violation {
            item_id: None,
            code,
            path,
            message: message.into(),
            details,
        });
    }
}
