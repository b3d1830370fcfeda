//! Declared topics (being written).
