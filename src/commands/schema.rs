//! `mcpctl schema`: the JSON Schema of the fleet file, for editors.

use crate::error::{Error, Result, exit};
use crate::fleet::schema::fleet_schema;
use crate::output::Printer;

pub fn run(printer: &Printer) -> Result<u8> {
    printer.data(&schema_text()?);
    Ok(exit::OK)
}

/// The schema as the file `init` writes and `schema` prints.
pub fn schema_text() -> Result<String> {
    serde_json::to_string_pretty(&fleet_schema())
        .map(|s| s + "\n")
        .map_err(|e| Error::Failed(format!("cannot encode the fleet schema as JSON: {e}")))
}
