//! What several commands read first: the fleet file and the templates, with
//! their warnings printed.

use std::path::Path;

use crate::cli::{GlobalArgs, RenderArgs};
use crate::error::Result;
use crate::fleet::Fleet;
use crate::output::Printer;
use crate::render::{self, KubeVersion, RenderOptions, Renderer};

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
            render::TEMPLATES
                .iter()
                .chain(render::FLEET_TEMPLATES)
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(renderer)
}

/// What `render` and `lint` start from: the renderer (templates checked before
/// the fleet, so a bad `--templates` is reported even when the fleet file is
/// also wrong), the fleet with `-n` applied, and the options from the flags.
pub fn render_inputs(
    global: &GlobalArgs,
    args: &RenderArgs,
    printer: &Printer,
) -> Result<(Renderer, Fleet, RenderOptions)> {
    let kube_version = KubeVersion::parse(&args.kube_version)?;
    let renderer = renderer(args.templates.as_deref(), printer)?;
    let fleet = fleet(global, printer)?;
    Ok((
        renderer,
        fleet,
        RenderOptions {
            kube_version,
            ..Default::default()
        },
    ))
}
