//! CPQ configuration engine (work in progress).
