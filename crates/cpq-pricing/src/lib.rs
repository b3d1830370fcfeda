//! Deterministic CPQ pricing engine (work in progress).
