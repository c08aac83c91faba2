//! `mcpctl init`: write a commented example fleet file, and beside it the
//! schema its first line points editors at.

use std::io::Write;
use std::path::Path;

use crate::cli::{GlobalArgs, InitArgs};
use crate::error::{Error, Result, exit};
use crate::fleet::INIT_TEMPLATE;
use crate::fleet::schema::SCHEMA_FILE;
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
    // The template's first line names the schema by a path relative to the
    // fleet file. The schema is generated, so a newer mcpctl refreshes it.
    let schema = path.parent().unwrap_or(Path::new("")).join(SCHEMA_FILE);
    std::fs::write(&schema, super::schema::schema_text()?).map_err(|e| {
        Error::Failed(format!(
            "wrote {} but cannot write {}: {e}",
            path.display(),
            schema.display()
        ))
    })?;
    printer.status(&format!(
        "wrote {} (and {}, the schema editors check it with); edit it, then run `mcpctl validate` and `mcpctl render`",
        path.display(),
        schema.display()
    ));
    Ok(exit::OK)
}
