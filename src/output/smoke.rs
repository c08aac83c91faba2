//! What `mcpctl smoke` prints: a summary, the tools and the timed calls of
//! one server, one row per server for `--all`, the classified tool changes
//! for `--compare-to`; or all of it as JSON/YAML (a document with a `schemaVersion`).

use serde::Serialize;

use crate::gate::{SmokeFailure, SmokeReport, ToolDiff};

/// Everything `smoke` found.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SmokeOutput {
    /// Whether every smoke test passed and no tool change breaks clients.
    pub ok: bool,
    /// One per tested server (`--all`: the fleet's, in fleet order).
    pub results: Vec<Outcome>,
    /// The `--compare-to` endpoint's smoke test.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Outcome>,
    /// How the tested server's tools differ from the baseline's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_diff: Option<ToolDiff>,
}

impl SmokeOutput {
    /// The output for these outcomes; with a baseline, the tool diff when
    /// both smoke tests passed.
    pub fn new(results: Vec<Outcome>, baseline: Option<Outcome>) -> SmokeOutput {
        let tool_diff = match (&baseline, results.first()) {
            (Some(b), Some(t)) => match (&b.report, &t.report) {
                (Some(old), Some(new)) => Some(crate::gate::compare(&old.tools, &new.tools)),
                _ => None,
            },
            _ => None,
        };
        let ok = results.iter().chain(baseline.iter()).all(|o| o.ok)
            && !tool_diff.as_ref().is_some_and(ToolDiff::has_breaking);
        SmokeOutput {
            ok,
            results,
            baseline,
            tool_diff,
        }
    }
}

/// One endpoint's smoke test.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// The server name or the URL.
    pub target: String,
    /// The fleet server, when one was tested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<SmokeReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<SmokeFailure>,
}

impl Outcome {
    pub fn of(
        target: String,
        server: Option<String>,
        result: Result<SmokeReport, SmokeFailure>,
    ) -> Outcome {
        let (report, failure) = match result {
            Ok(r) => (Some(r), None),
            Err(f) => (None, Some(f)),
        };
        Outcome {
            target,
            server,
            ok: failure.is_none(),
            report,
            failure,
        }
    }
}

fn new_table(header: &[&str]) -> comfy_table::Table {
    let mut t = crate::output::table();
    t.set_header(header.to_vec());
    t
}

fn ms(v: f64) -> String {
    format!("{v:.0}ms")
}

fn first_line(s: &str, max: usize) -> String {
    s.lines().next().unwrap_or("").chars().take(max).collect()
}

/// The table form: details of one passing server, else one row per endpoint.
pub fn table(out: &SmokeOutput) -> String {
    let mut text = match (out.results.as_slice(), &out.baseline) {
        ([one], None) if one.ok => details(one),
        _ => rows(
            out.results.iter().map(|o| (o, o.target.clone())).chain(
                out.baseline
                    .iter()
                    .map(|b| (b, format!("{} (baseline)", b.target))),
            ),
        ),
    };
    if let Some(diff) = &out.tool_diff {
        text.push('\n');
        text.push_str(&diff_table(diff));
    }
    text
}

/// One row per endpoint (each with its label): status, protocol, tools,
/// latency, error.
fn rows<'a>(outcomes: impl Iterator<Item = (&'a Outcome, String)>) -> String {
    let mut t = new_table(&["SERVER", "STATUS", "PROTOCOL", "TOOLS", "LATENCY", "ERROR"]);
    for (o, label) in outcomes {
        match (&o.report, &o.failure) {
            (Some(r), _) => t.add_row([
                label,
                "ok".into(),
                r.protocol_version.clone(),
                r.tools.len().to_string(),
                ms(r.total_millis()),
                "-".into(),
            ]),
            (_, Some(f)) => t.add_row([
                label,
                "FAILED".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                format!("{}: {}", f.step, first_line(&f.message, 100)),
            ]),
            (None, None) => t.add_row([label]),
        };
    }
    crate::cluster::status::tidy(&t.to_string())
}

/// One endpoint in full: who answered, its tools, every call.
fn details(o: &Outcome) -> String {
    let Some(r) = &o.report else {
        return rows(std::iter::once((o, o.target.clone())));
    };
    let mut text = format!(
        "{}: {} speaks MCP {} ({}{}), {} tool{} in {} page{}, {} in total\n\n",
        o.target,
        r.server(),
        r.protocol_version,
        match r.era {
            crate::gate::Era::Legacy => "legacy",
            crate::gate::Era::Modern => "modern",
        },
        if r.session { ", with a session" } else { "" },
        r.tools.len(),
        if r.tools.len() == 1 { "" } else { "s" },
        r.tool_pages,
        if r.tool_pages == 1 { "" } else { "s" },
        ms(r.total_millis()),
    );
    if !r.tools.is_empty() {
        let mut t = new_table(&["TOOL", "DESCRIPTION"]);
        for tool in &r.tools {
            let d = tool
                .description
                .as_deref()
                .or(tool.title.as_deref())
                .unwrap_or("-");
            t.add_row([tool.name.clone(), first_line(d, 80)]);
        }
        text.push_str(&crate::cluster::status::tidy(&t.to_string()));
        text.push('\n');
    }
    let mut t = new_table(&["CALL", "STATUS", "LATENCY"]);
    for c in &r.calls {
        t.add_row([c.method.clone(), c.status.to_string(), ms(c.millis)]);
    }
    text.push_str(&crate::cluster::status::tidy(&t.to_string()));
    text
}

/// The classified tool changes, breaking first.
pub fn diff_table(diff: &ToolDiff) -> String {
    if diff.changes.is_empty() {
        return "no tool changes\n".into();
    }
    let mut t = new_table(&["SEVERITY", "TOOL", "PATH", "CHANGE"]);
    for c in &diff.changes {
        t.add_row([
            format!("{:?}", c.severity).to_lowercase(),
            c.tool.clone(),
            if c.path.is_empty() {
                "-".into()
            } else {
                c.path.clone()
            },
            c.what.clone(),
        ]);
    }
    crate::cluster::status::tidy(&t.to_string())
}
