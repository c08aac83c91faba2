use crate::cli::GlobalArgs;
use crate::error::{Error, Result};
use crate::output::Printer;

pub fn run(global: &GlobalArgs, printer: &Printer) -> Result<u8> {
    let _ = (global, printer);
    Err(Error::Failed("`validate` is not built yet".into()))
}
