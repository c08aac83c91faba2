//! `mcpctl render`: multi-document YAML on stdout (`-o json`: a `v1` List),
//! or one file per object (`<server>/<kind>-<name>.yaml`) under `--output-dir`.

use std::path::{Path, PathBuf};

use crate::cli::{GlobalArgs, OutputFormat, RenderArgs};
use crate::error::{Error, Result, exit};
use crate::output::Printer;
use crate::render;

pub fn run(global: &GlobalArgs, args: &RenderArgs, printer: &Printer) -> Result<u8> {
    let (renderer, fleet, opts) = super::inputs::render_inputs(global, args, printer)?;
    // The fleet's own objects (its dashboard) come after the servers'.
    let fleet_objects = renderer.render_fleet_objects(&fleet, &args.servers, &opts)?;
    if printer.format == OutputFormat::Json {
        if args.output_dir.is_some() {
            return Err(Error::Usage(
                "--output-dir writes YAML files; drop `-o json` or `--output-dir`".into(),
            ));
        }
        // A `v1` List, as `kubectl get -o json` prints several objects.
        let mut objects = renderer.render_fleet(&fleet, &args.servers, &opts)?;
        objects.extend(fleet_objects);
        let list = serde_json::json!({
            "apiVersion": "v1",
            "kind": "List",
            "items": objects.into_iter().map(|o| o.value).collect::<Vec<_>>(),
        });
        printer.data(&printer.structured(&list)?);
        return Ok(exit::OK);
    }
    let files = |objects: &[render::Object]| {
        objects
            .iter()
            .map(|o| {
                (
                    render::object_file_name(o),
                    format!("---\n{}", render::object_yaml(o)),
                )
            })
            .collect::<Vec<_>>()
    };
    match &args.output_dir {
        Some(dir) => {
            let mut count = 0;
            renderer.render_each(
                &fleet,
                &args.servers,
                &opts,
                |_, objects| files(&objects),
                |files| {
                    count += files.len();
                    write_files(dir, files)
                },
            )?;
            count += fleet_objects.len();
            write_files(dir, files(&fleet_objects))?;
            printer.status(&format!("wrote {count} objects to {}", dir.display()));
        }
        // One server at a time, so a large fleet never sits in memory whole.
        None => {
            renderer.render_each(
                &fleet,
                &args.servers,
                &opts,
                |_, objects| render::to_yaml(&objects),
                |text| {
                    printer.data(&text);
                    Ok(())
                },
            )?;
            if !fleet_objects.is_empty() {
                printer.data(&render::to_yaml(&fleet_objects));
            }
        }
    }
    Ok(exit::OK)
}

fn write_files(dir: &Path, files: Vec<(PathBuf, String)>) -> Result<()> {
    let fail =
        |p: &Path, e: std::io::Error| Error::Failed(format!("cannot write {}: {e}", p.display()));
    for (name, text) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| fail(parent, e))?;
        }
        std::fs::write(&path, text).map_err(|e| fail(&path, e))?;
    }
    Ok(())
}
