//! `mcpctl lint`: load the fleet, render it (with any template overrides), run
//! the production checklist over the rendered objects and report the findings.
//! Exits 1 when an error-level finding remains.

use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;

use crate::cli::{GlobalArgs, OutputFormat, RenderArgs};
use crate::error::{Error, Result, exit};
use crate::lint::{self, Finding, LintOptions, Summary};
use crate::output::Printer;
use crate::render::Object;

/// What `-o json|yaml` prints.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub findings: &'a [Finding],
    pub summary: Summary,
}

pub fn run(global: &GlobalArgs, args: &RenderArgs, printer: &Printer) -> Result<u8> {
    if let Some(dir) = &args.output_dir {
        return Err(Error::Usage(format!(
            "--output-dir {} is for `mcpctl render`; `lint` prints its findings on stdout",
            dir.display()
        )));
    }
    let (renderer, fleet, opts) = super::inputs::render_inputs(global, args, printer)?;
    let objects = renderer.render_fleet(&fleet, &args.servers, &opts)?;
    let findings = lint::lint_with(
        &fleet,
        &objects,
        &LintOptions {
            kube_version: opts.kube_version,
        },
    );
    let summary = Summary::of(&findings);

    match printer.format {
        OutputFormat::Table => {
            if !findings.is_empty() {
                printer.data(&table(&findings));
            }
        }
        OutputFormat::Json | OutputFormat::Yaml => {
            printer.data(&printer.document(&Report {
                findings: &findings,
                summary,
            })?);
        }
    }
    let servers = objects
        .iter()
        .map(Object::server)
        .filter(|s| !s.is_empty())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    printer.status(&summary_line(&summary, objects.len(), servers));
    Ok(if summary.errors > 0 {
        exit::ERROR
    } else {
        exit::OK
    })
}

/// Findings as a table: RULE SEVERITY OBJECT MESSAGE FIX.
pub fn table(findings: &[Finding]) -> String {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(["RULE", "SEVERITY", "OBJECT", "MESSAGE", "FIX"]);
    for f in findings {
        t.add_row([f.rule, f.severity.as_str(), &f.object, &f.message, &f.fix]);
    }
    // comfy-table pads the first and last column with a space; trim lines so
    // the output is stable for scripts and snapshots.
    t.to_string()
        .lines()
        .map(|l| l.trim().to_string() + "\n")
        .collect()
}

/// `lint: 2 errors, 1 warning, 0 infos in 14 objects of 2 servers`.
pub fn summary_line(s: &Summary, objects: usize, servers: usize) -> String {
    let n =
        |count: usize, word: &str| format!("{count} {word}{}", if count == 1 { "" } else { "s" });
    format!(
        "lint: {}, {}, {} in {} of {}",
        n(s.errors, "error"),
        n(s.warnings, "warning"),
        n(s.infos, "info"),
        n(objects, "object"),
        n(servers, "server")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::Severity;

    fn finding(rule: &'static str, severity: Severity) -> Finding {
        Finding {
            rule,
            severity,
            object: "Deployment/mcp/github".into(),
            server: "github".into(),
            message: "container `mcp` has a writable root filesystem".into(),
            fix: "set readOnlyRootFilesystem: true".into(),
        }
    }

    #[test]
    fn table_has_the_five_columns_and_one_row_per_finding() {
        let text = table(&[
            finding("MCP002", Severity::Error),
            finding("MCP011", Severity::Info),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        let header: Vec<&str> = lines[0].split_whitespace().collect();
        assert_eq!(header, ["RULE", "SEVERITY", "OBJECT", "MESSAGE", "FIX"]);
        assert!(lines[1].starts_with("MCP002"), "{text}");
        assert!(lines[1].contains(" error "), "{text}");
        assert!(lines[2].contains(" info "), "{text}");
        assert!(
            lines[1].ends_with("set readOnlyRootFilesystem: true"),
            "{text}"
        );
    }

    #[test]
    fn summary_line_counts_with_plurals() {
        let s = Summary {
            errors: 1,
            warnings: 2,
            infos: 0,
        };
        assert_eq!(
            summary_line(&s, 14, 1),
            "lint: 1 error, 2 warnings, 0 infos in 14 objects of 1 server"
        );
    }
}
