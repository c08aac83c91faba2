//! `mcpctl render`: multi-document YAML on stdout, or one file per object
//! (`<server>/<kind>-<name>.yaml`) under `--output-dir`.

use std::path::Path;

use crate::cli::{GlobalArgs, RenderArgs};
use crate::error::{Error, Result, exit};
use crate::output::Printer;
use crate::render::{self, KubeVersion, Object, RenderOptions, Renderer};

pub fn run(global: &GlobalArgs, args: &RenderArgs, printer: &Printer) -> Result<u8> {
    let objects = render_objects(global, args, printer)?;
    match &args.output_dir {
        Some(dir) => {
            write_files(dir, &objects)?;
            printer.status(&format!(
                "wrote {} objects to {}",
                objects.len(),
                dir.display()
            ));
        }
        None => printer.data(&render::to_yaml(&objects)),
    }
    Ok(exit::OK)
}

/// Loads the fleet (printing its warnings), applies `-n`, and renders the
/// selected servers. Shared with `lint`.
pub fn render_objects(
    global: &GlobalArgs,
    args: &RenderArgs,
    printer: &Printer,
) -> Result<Vec<Object>> {
    let kube_version = KubeVersion::parse(&args.kube_version)?;
    // Check the template directory before the fleet, so a bad flag is reported
    // even when the fleet file is also wrong.
    let renderer = Renderer::new(args.templates.as_deref())?;
    for path in renderer.unused_overrides() {
        printer.warn(&format!(
            "warning: template {} overrides no built-in template (built-in names: {})",
            path.display(),
            render::TEMPLATES.join(", ")
        ));
    }
    let loaded = crate::fleet::load(&global.fleet)?;
    for w in &loaded.warnings {
        printer.warn(&w.to_string());
    }
    let mut fleet = loaded.fleet;
    if let Some(ns) = &global.namespace {
        fleet.namespace = ns.clone();
    }
    let opts = RenderOptions {
        kube_version,
        ..Default::default()
    };
    renderer.render_fleet(&fleet, &args.servers, &opts)
}

fn write_files(dir: &Path, objects: &[Object]) -> Result<()> {
    let fail =
        |p: &Path, e: std::io::Error| Error::Failed(format!("cannot write {}: {e}", p.display()));
    for o in objects {
        let path = dir.join(render::object_file_name(o));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| fail(parent, e))?;
        }
        let text = format!("---\n{}", render::object_yaml(o));
        std::fs::write(&path, text).map_err(|e| fail(&path, e))?;
    }
    Ok(())
}
