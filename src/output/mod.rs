//! Printing, kept apart from logic: data to stdout in the chosen format,
//! logs, progress and errors to stderr.

mod events;
mod printer;
pub mod smoke;

pub use printer::Printer;
