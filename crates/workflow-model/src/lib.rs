//! Zeebe-compatible workflow model: the pure foundation of the embedded workflow engine.
//!
//! Everything here is deterministic and free of I/O so that the engine and the gRPC gateway
//! built on top can be tested without a broker:
//!
//! * [`bpmn`] parses BPMN 2.0 XML with Zeebe extensions, refuses everything outside the
//!   supported subset (naming element, tag and line) and yields an immutable
//!   [`bpmn::ProcessDefinition`] to step tokens through;
//! * [`feel`] compiles and evaluates FEEL expressions (dsntk) on JSON variables;
//! * [`timer`] parses ISO-8601 durations and date-times and computes due instants;
//! * [`mapping`] applies `zeebe:ioMapping` input and output mappings with Zeebe semantics.

pub mod bpmn;
pub mod feel;
pub mod mapping;
pub mod timer;
