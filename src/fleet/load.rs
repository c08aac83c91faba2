//! Reading and strictly parsing the fleet file.

use std::path::Path;

use super::decode::Ctx;
use super::diagnostic::Severity;
use super::yaml::{self, Pos};
use super::{Diagnostic, Fleet, read, resolve};
use crate::error::{Error, Result};

/// A fleet that loaded, with the warnings found on the way (`:latest`, no tag…).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub fleet: Fleet,
    pub warnings: Vec<Diagnostic>,
}

/// Loads, defaults and validates a fleet file. Every error found is returned
/// at once as `Error::Invalid`; a missing or unreadable file is `Error::Usage`.
/// Both exit 2.
pub fn load(path: &Path) -> Result<Loaded> {
    let text = std::fs::read_to_string(path).map_err(|e| read_error(path, &e))?;
    load_str(&text, path)
}

fn read_error(path: &Path, e: &std::io::Error) -> Error {
    let shown = display_path(path);
    match e.kind() {
        std::io::ErrorKind::NotFound => Error::Usage(format!(
            "no fleet file at {shown}; pass -f FILE, set MCPCTL_FLEET, or run `mcpctl init`"
        )),
        std::io::ErrorKind::InvalidData => Error::Usage(format!(
            "cannot read the fleet file {shown}: it is not UTF-8 text"
        )),
        _ if path.is_dir() => Error::Usage(format!(
            "cannot read the fleet file {shown}: it is a directory; pass the YAML file with -f FILE"
        )),
        _ => Error::Usage(format!("cannot read the fleet file {shown}: {e}")),
    }
}

/// `mcpctl.yaml` reads better as `./mcpctl.yaml` in a message.
fn display_path(path: &Path) -> String {
    let s = path.display().to_string();
    if path.is_relative() && path.components().count() == 1 {
        format!("./{s}")
    } else {
        s
    }
}

/// Same as [`load`] for text already read; `file` is only used in messages.
pub fn load_str(text: &str, file: &Path) -> Result<Loaded> {
    let mut cx = Ctx::new(file);
    let (root, problems) = yaml::parse(text);
    for p in &problems {
        cx.error(p.pos, "", p.message.clone(), p.hint.clone());
    }
    if problems.iter().any(|p| p.fatal) {
        return Err(Error::Invalid(finish(cx.diags)));
    }
    let Some(root) = root.filter(|r| r.value != yaml::Value::Null) else {
        cx.error(
            Pos::new(1, 1),
            "",
            "the fleet file is empty",
            Some(
                "run `mcpctl init` to write a commented example, or see examples/fleet.yaml".into(),
            ),
        );
        return Err(Error::Invalid(finish(cx.diags)));
    };
    let raw = read::decode(&mut cx, &root);
    let fleet = resolve::resolve(&mut cx, &raw);
    let diags = finish(cx.diags);
    match fleet {
        Some(fleet) if !diags.iter().any(|d| d.severity == Severity::Error) => Ok(Loaded {
            fleet,
            warnings: diags,
        }),
        _ => Err(Error::Invalid(diags)),
    }
}

/// Errors first, each group in file order.
fn finish(mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diags.sort_by_key(|d| (d.severity, d.line, d.column));
    diags
}
