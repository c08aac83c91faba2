//! Printing, kept apart from logic: data to stdout in the chosen format,
//! logs, progress and errors to stderr.

mod events;
mod printer;
mod progress;
pub mod smoke;

pub use printer::Printer;
pub use progress::Progress;
