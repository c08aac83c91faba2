use crate::cli::GlobalArgs;
use crate::error::{Error, Result};
use crate::output::Printer;

pub fn run(global: &GlobalArgs, args: &crate::cli::RenderArgs, printer: &Printer) -> Result<u8> {
    let _ = (global, args, printer);
    Err(Error::Failed("`render` is not built yet".into()))
}
