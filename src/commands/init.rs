//! `mcpctl init`: write a commented example fleet file.

use std::io::Write;

use crate::cli::{GlobalArgs, InitArgs};
use crate::error::{Error, Result, exit};
use crate::fleet::INIT_TEMPLATE;
use crate::output::Printer;

pub fn run(global: &GlobalArgs, args: &InitArgs, printer: &Printer) -> Result<u8> {
    let path = &global.fleet;
    if path.is_dir() {
        return Err(Error::Usage(format!(
            "{} is a directory; pass the file to write with -f FILE",
            path.display()
        )));
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if args.force {
        options.create(true).truncate(true);
    } else {
        // `create_new` refuses atomically when the file appeared meanwhile.
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => Error::Usage(format!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        )),
        _ => Error::Failed(format!("cannot write {}: {e}", path.display())),
    })?;
    file.write_all(INIT_TEMPLATE.as_bytes())
        .map_err(|e| Error::Failed(format!("cannot write {}: {e}", path.display())))?;
    printer.status(&format!(
        "wrote {}; edit it, then run `mcpctl validate` and `mcpctl render`",
        path.display()
    ));
    Ok(exit::OK)
}
