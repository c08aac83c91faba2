//! What several commands read first: the fleet file and the templates, with
//! their warnings printed.

use std::path::Path;

use crate::cli::GlobalArgs;
use crate::error::Result;
use crate::fleet::Fleet;
use crate::output::Printer;
use crate::render::{self, Renderer};

/// The fleet named by `-f`, its warnings printed, with `-n` applied.
pub fn fleet(global: &GlobalArgs, printer: &Printer) -> Result<Fleet> {
    let loaded = crate::fleet::load(&global.fleet)?;
    for w in &loaded.warnings {
        printer.warn(&w.to_string());
    }
    let mut fleet = loaded.fleet;
    if let Some(ns) = &global.namespace {
        fleet.namespace = ns.clone();
    }
    Ok(fleet)
}

/// The template environment, `--templates` overriding by file name; an
/// override file that replaces no built-in template is warned about (most
/// likely a misspelt name).
pub fn renderer(templates: Option<&Path>, printer: &Printer) -> Result<Renderer> {
    let renderer = Renderer::new(templates)?;
    for path in renderer.unused_overrides() {
        printer.warn(&format!(
            "warning: template {} overrides no built-in template (built-in names: {})",
            path.display(),
            render::TEMPLATES.join(", ")
        ));
    }
    Ok(renderer)
}
