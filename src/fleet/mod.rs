//! The fleet file: model, loading, defaults and validation. Pure apart from
//! reading the file.
//!
//! Loading goes: text → `yaml` (a node tree with positions) → `read` into
//! `raw` (settings as written, each value checked on its own) → `merge`
//! (servers over `defaults`) → [`resolve`] (built-in defaults, cross-field
//! checks) → [`model::Fleet`].

mod blocks;
mod checks;
mod decode;
mod diagnostic;
pub mod duration;
pub mod image;
mod load;
mod merge;
pub mod model;
pub mod names;
pub mod quantity;
mod raw;
mod read;
pub mod resolve;
pub mod schema;
pub mod shape;
mod yaml;

pub use diagnostic::{Diagnostic, Severity};
pub use load::{Loaded, load, load_str};
pub use model::*;

/// The commented example fleet file `mcpctl init` writes.
pub const INIT_TEMPLATE: &str = include_str!("init_template.yaml");

#[cfg(test)]
mod schema_tests;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
