//! Printing, kept apart from logic: data to stdout in the chosen format,
//! logs, progress and errors to stderr.

pub mod apply;
mod events;
mod printer;
mod progress;
pub mod smoke;

pub use printer::Printer;

/// Version of every document `-o json|yaml` prints (status, history, lint,
/// smoke, validate, apply, a `--dry-run` plan, version): each carries it as
/// `schemaVersion`, first. Raise it when a shape changes incompatibly (a
/// field removed, renamed or retyped); adding a field keeps it.
pub const SCHEMA_VERSION: u32 = 1;
pub use progress::Progress;
