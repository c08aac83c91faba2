//! `mcpctl diff`: what `apply` would change, from a server-side dry run.
//! Exit codes as `kubectl diff`: 0 no differences, 1 differences, 2 or more
//! an error (errors that would exit 1 elsewhere exit 2 here).

use crate::cli::{DiffArgs, GlobalArgs, OutputFormat};
use crate::cluster::{apply, diff, prune, runtime, session};
use crate::error::{Error, Result, exit};
use crate::output::Printer;

/// What `-o json|yaml` prints.
#[derive(serde::Serialize)]
struct Document<'a> {
    /// How many objects were compared.
    objects: usize,
    /// The objects that differ.
    differ: &'a [Differs],
}

/// An object whose live state differs from the intended one.
#[derive(serde::Serialize)]
struct Differs {
    /// Left out for the fleet's own objects (its dashboard), which belong to no server.
    #[serde(skip_serializing_if = "String::is_empty")]
    server: String,
    /// `mcp/deployment.apps/github`.
    object: String,
    /// Whether the object exists (else apply would create it).
    live: bool,
    /// The unified diff, as the table output prints it.
    diff: String,
    /// `apply --prune` would delete it (`diff --prune` only).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pruned: bool,
}

/// Exit code of `diff` when objects differ.
pub const DIFFERS: u8 = 1;

pub fn run(global: &GlobalArgs, args: &DiffArgs, printer: &Printer) -> Result<u8> {
    runtime()?
        .block_on(run_async(global, args, printer))
        .map_err(|e| match e.exit_code() {
            exit::ERROR => Error::WithCode {
                code: exit::USAGE,
                message: e.to_string(),
            },
            _ => e,
        })
}

async fn run_async(global: &GlobalArgs, args: &DiffArgs, printer: &Printer) -> Result<u8> {
    let s = session::open(global, super::inputs::fleet(global, printer)?).await?;
    let prepared = session::prepare(&s, &args.servers, args.templates.as_deref()).await?;
    for w in &prepared.warnings {
        printer.warn(&format!("warning: {w}"));
    }
    let ns_exists = prepared.ns_exists;
    if !ns_exists {
        printer.status(&format!(
            "namespace {} does not exist yet: every object would be created",
            s.ns()
        ));
    }
    let pruning = prune::find_prepared(&s, &prepared, &args.servers).await?;
    let planned = apply::plan(
        &s.cluster,
        prepared.targets,
        prepared.live,
        args.force_conflicts,
        !ns_exists,
    )
    .await?;
    let mut objects = Vec::new();
    for p in &planned {
        let name = match &p.target.ns {
            Some(ns) => format!("{}/{}", ns, p.target.display()),
            None => p.target.display(),
        };
        if let Some(d) = diff::object_diff(&name, p.live.as_ref(), p.intended()) {
            objects.push(Differs {
                server: p.target.server().to_string(),
                object: name,
                live: p.live.is_some(),
                diff: d,
                pruned: false,
            });
        }
    }
    let mut total = planned.len();
    if args.prune {
        for o in &pruning.candidates {
            let name = match o["metadata"]["namespace"].as_str() {
                Some(ns) => format!("{ns}/{}", prune::display(o)),
                None => prune::display(o),
            };
            objects.push(Differs {
                server: o["metadata"]["labels"]["app.kubernetes.io/name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                diff: diff::deletion_diff(&name, o),
                object: name,
                live: true,
                pruned: true,
            });
            total += 1;
        }
    } else if !pruning.candidates.is_empty() {
        let names: Vec<String> = pruning.candidates.iter().map(prune::display).collect();
        printer.status(&format!(
            "note: {} object(s) of the fleet are no longer rendered; `mcpctl apply --prune` \
             would delete them (`mcpctl diff --prune` shows them): {}",
            names.len(),
            names.join(", ")
        ));
    }
    let differs = objects.len();
    match printer.format {
        OutputFormat::Table => {
            printer.data(&objects.iter().map(|o| o.diff.as_str()).collect::<String>())
        }
        _ => printer.data(&printer.document(&Document {
            objects: total,
            differ: &objects,
        })?),
    }
    if differs == 0 {
        printer.status(&format!("no differences in {total} objects"));
        Ok(exit::OK)
    } else {
        printer.status(&format!("{differs} of {total} objects differ"));
        Ok(DIFFERS)
    }
}
