//! The fleet file: model, loading, defaults and validation. Pure apart from
//! reading the file.

mod diagnostic;
pub mod duration;
pub mod model;

pub use diagnostic::{Diagnostic, Severity};
pub use model::*;
mod load;

pub use load::{Loaded, load, load_str};
