//! Printing, kept apart from logic: data to stdout in the chosen format,
//! logs, progress and errors to stderr.

pub mod apply;
mod events;
mod printer;
mod progress;
pub mod smoke;

pub use printer::Printer;

/// A table as mcpctl prints them: no borders, and on a terminal the columns
/// wrap to fit its width (through a pipe nothing wraps: scripts get whole
/// lines).
pub fn table() -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::NOTHING);
    t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
    t
}

/// Version of every document `-o json|yaml` prints (status, history, lint,
/// smoke, validate, apply, a `--dry-run` plan, version): each carries it as
/// `schemaVersion`, first. Raise it when a shape changes incompatibly (a
/// field removed, renamed or retyped); adding a field keeps it.
pub const SCHEMA_VERSION: u32 = 1;
pub use progress::Progress;
