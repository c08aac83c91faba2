//! The engine's events, rendered three ways: lines on stderr for people and
//! plain CI logs; with `GITHUB_ACTIONS=true`, the same lines folded in
//! `::group::` blocks, `::error::`/`::warning::` annotations for failed gates
//! and restores, and a Markdown summary appended to `$GITHUB_STEP_SUMMARY`;
//! under GitLab CI, each step in a collapsible section; under another CI
//! (`CI` set), plain lines with a UTC timestamp; with `--events ndjson`, one
//! timestamped JSON object per line on stdout.

use std::io::Write;

use super::Printer;
use crate::cli::EventsFormat;
use crate::rollout::events::Event;

/// The CI system around the process, from its environment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ci {
    pub github: bool,
    /// GitLab CI: steps in collapsible sections.
    pub gitlab: bool,
    /// Another CI system (`CI` set): plain lines with a UTC timestamp.
    pub plain: bool,
    /// `$GITHUB_STEP_SUMMARY`: the file a step appends its Markdown summary to.
    pub step_summary: Option<std::path::PathBuf>,
}

impl Ci {
    pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Ci {
        let set = |k: &str| get(k).is_some_and(|v| !v.is_empty() && v != "false");
        let github = get("GITHUB_ACTIONS").as_deref() == Some("true");
        let gitlab = !github && set("GITLAB_CI");
        Ci {
            github,
            gitlab,
            plain: !github && !gitlab && set("CI"),
            step_summary: get("GITHUB_STEP_SUMMARY")
                .filter(|p| github && !p.is_empty())
                .map(Into::into),
        }
    }
}

/// GitLab's collapsible section markers around a step.
fn gitlab_section(start: bool, index: usize, header: &str, unix: i64) -> String {
    if start {
        format!("\x1b[0Ksection_start:{unix}:mcpctl_step_{index}[collapsed=true]\r\x1b[0K{header}")
    } else {
        format!("\x1b[0Ksection_end:{unix}:mcpctl_step_{index}\r\x1b[0K")
    }
}

/// What an operation did, gathered from its events for the step summary.
#[derive(Debug, Default)]
pub struct Summary {
    title: String,
    rows: Vec<String>,
    in_group: bool,
    /// The GitLab section open, by step index.
    section: Option<usize>,
}

/// One line for an event, for people.
pub fn line(e: &Event) -> String {
    match e {
        Event::OperationStarted {
            kind,
            server,
            strategy,
            from,
            to,
            resumed_at,
            id,
        } => {
            let resumed = resumed_at
                .map(|s| format!(", resumed at step {s}"))
                .unwrap_or_default();
            format!("{kind} {server} ({strategy}): {from} → {to} [operation {id}{resumed}]")
        }
        Event::StepStarted { index, total, text } => format!("[{index}/{total}] {text}"),
        Event::ObjectApplied { object, manager } => format!("  {object} applied ({manager})"),
        Event::Waiting { message, .. } => format!("  {message}"),
        Event::Gate {
            gate,
            passed,
            detail,
        } => format!(
            "  {gate}: {} — {detail}",
            if *passed { "passed" } else { "FAILED" }
        ),
        Event::Switched { from, to } => format!("  traffic switched from {from} to {to}"),
        Event::WeightSet {
            weight,
            achieved,
            router,
        } => {
            if achieved == weight {
                format!("  canary weight {weight}% ({router}, read back)")
            } else {
                format!(
                    "  canary weight {weight}% asked, {achieved}% achieved by the replica ratio ({router}, read back)"
                )
            }
        }
        Event::Holding { weight, seconds } => format!(
            "  holding at {weight}% for {}, sampling Prometheus",
            crate::fleet::duration::format(std::time::Duration::from_secs(*seconds))
        ),
        Event::Sample {
            weight,
            index,
            verdict,
            failed,
            failure_limit,
            checks,
        } => sample_line(*weight, *index, verdict, *failed, *failure_limit, checks),
        Event::Control { request, who } => format!("  `mcpctl {request}` received from {who}"),
        Event::Restoring { why } => format!("restoring the last good version: {why}"),
        Event::Undone { text } => format!("  undone: {text}"),
        Event::DueTask { text, done } => {
            format!("due task: {text}{}", if *done { " (done)" } else { "" })
        }
        Event::Warning { message } => format!("warning: {message}"),
        Event::Recorded { revision } => format!("recorded revision {revision}"),
        Event::Finished {
            outcome, exit_code, ..
        } => format!("finished: {outcome} (exit {exit_code})"),
    }
}

/// A sample for people: the verdict, then each check with its value and
/// threshold; a check that did not pass shows its query.
fn sample_line(
    weight: u32,
    index: usize,
    verdict: &str,
    failed: u32,
    limit: u32,
    checks: &[crate::rollout::events::SampleCheck],
) -> String {
    let mut out = format!(
        "  sample {index} at {weight}%: {} (failed {failed}/{limit})",
        verdict.to_uppercase()
    );
    for c in checks {
        let value = c
            .value
            .map(crate::gate::analysis::fmt_num)
            .unwrap_or_else(|| "-".into());
        let threshold = c.threshold.as_deref().unwrap_or("");
        out.push_str(&format!(
            "\n    {} {}: {value} {threshold} {}",
            c.track, c.name, c.outcome
        ));
        if c.outcome != "pass" {
            out.push_str(&format!(" — {}\n      query: {}", c.detail, c.query));
        }
    }
    out
}

/// Whether people see `e` at this verbosity: the object lines of an
/// operation only with `-v` (the step line says what is applied), so output
/// grows with the steps, not with the objects. NDJSON carries every event.
pub fn shown_to_people(e: &Event, verbose: u8) -> bool {
    verbose > 0 || !matches!(e, Event::ObjectApplied { .. })
}

/// An event as one NDJSON line: `{"event": …, …, "time": …, "schemaVersion": 1}`.
pub fn ndjson(e: &Event, time: &str) -> String {
    let mut v = serde_json::to_value(e).expect("events serialize");
    if let Some(m) = v.as_object_mut() {
        m.insert("time".into(), serde_json::Value::String(time.to_string()));
        m.insert("schemaVersion".into(), super::SCHEMA_VERSION.into());
    }
    serde_json::to_string(&v).expect("JSON values serialize")
}

/// A GitHub Actions workflow command's message: `%`, CR and LF escaped.
fn escape(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The workflow commands (`::group::`, `::error::`…) that go with an event,
/// before (`true`) or after (`false`) its line.
fn github_commands(e: &Event, in_group: bool) -> (Vec<String>, Vec<String>) {
    let mut before = Vec::new();
    let mut after = Vec::new();
    match e {
        Event::StepStarted { index, total, text } => {
            if in_group {
                before.push("::endgroup::".to_string());
            }
            before.push(format!("::group::[{index}/{total}] {}", escape(text)));
        }
        Event::Gate {
            gate,
            passed: false,
            detail,
        } => after.push(format!(
            "::error title=mcpctl {gate} gate failed::{}",
            escape(detail)
        )),
        Event::Restoring { why } => {
            if in_group {
                before.push("::endgroup::".to_string());
            }
            before.push(format!(
                "::warning title=mcpctl restoring the last good version::{}",
                escape(why)
            ));
        }
        Event::Warning { message } => {
            after.push(format!("::warning::{}", escape(message)));
        }
        Event::Sample {
            verdict,
            weight,
            index,
            ..
        } if verdict != "pass" => {
            after.push(format!(
                "::warning title=mcpctl canary sample {index} at {weight}%::{}",
                escape(&line(e))
            ));
        }
        Event::Finished {
            outcome,
            exit_code,
            message,
        } => {
            if in_group {
                before.push("::endgroup::".to_string());
            }
            if *exit_code != 0 {
                after.push(format!(
                    "::error title=mcpctl {outcome} (exit {exit_code})::{}",
                    escape(message)
                ));
            } else {
                after.push(format!("::notice title=mcpctl::{}", escape(outcome)));
            }
        }
        _ => {}
    }
    (before, after)
}

impl Summary {
    /// Takes an event in; returns the Markdown to append when the operation ends.
    fn take(&mut self, e: &Event) -> Option<String> {
        match e {
            Event::OperationStarted { .. } => {
                self.title = line(e);
                self.rows.clear();
            }
            Event::StepStarted { .. }
            | Event::Gate { .. }
            | Event::Switched { .. }
            | Event::WeightSet { .. }
            | Event::Sample { .. }
            | Event::Control { .. }
            | Event::Restoring { .. }
            | Event::Undone { .. }
            | Event::DueTask { .. }
            | Event::Recorded { .. } => self.rows.push(line(e).trim().to_string()),
            Event::Finished {
                outcome,
                exit_code,
                message,
            } => {
                let mut md = format!(
                    "### mcpctl: {}\n\n**Outcome:** {outcome} (exit {exit_code})\n\n",
                    self.title
                );
                if !message.is_empty() {
                    md.push_str(&format!("> {}\n\n", message.replace('\n', " ")));
                }
                for r in &self.rows {
                    md.push_str(&format!("- {}\n", r.replace('|', "\\|")));
                }
                md.push('\n');
                return Some(md);
            }
            _ => {}
        }
        None
    }
}

impl Printer {
    /// Shows an engine event.
    pub fn event(&self, e: &Event) {
        if self.events == EventsFormat::Ndjson {
            let time = jiff::Timestamp::now()
                .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string();
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", ndjson(e, &time));
            let _ = out.flush();
            return;
        }
        if !shown_to_people(e, self.verbose) {
            return;
        }
        let mut summary = self.summary.lock().unwrap_or_else(|p| p.into_inner());
        if self.ci.github {
            let (before, after) = github_commands(e, summary.in_group);
            for c in before {
                eprintln!("{c}");
            }
            self.human(e);
            for c in after {
                eprintln!("{c}");
            }
            match e {
                Event::StepStarted { .. } => summary.in_group = true,
                Event::Restoring { .. } | Event::Finished { .. } => summary.in_group = false,
                _ => {}
            }
        } else if self.ci.gitlab {
            let unix = jiff::Timestamp::now().as_second();
            let closes = matches!(
                e,
                Event::StepStarted { .. } | Event::Restoring { .. } | Event::Finished { .. }
            );
            if closes && let Some(i) = summary.section.take() {
                self.status(&gitlab_section(false, i, "", unix));
            }
            match e {
                Event::StepStarted { index, .. } => {
                    self.status(&gitlab_section(true, *index, &line(e), unix));
                    summary.section = Some(*index);
                }
                _ => self.human(e),
            }
        } else if self.ci.plain {
            let time = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ");
            let l = format!("{time} {}", line(e));
            match e {
                Event::Warning { .. } | Event::Restoring { .. } => self.warn(&l),
                _ => self.status(&l),
            }
        } else {
            self.human(e);
        }
        if let (Some(path), Some(md)) = (&self.ci.step_summary, summary.take(e)) {
            let written = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|mut f| f.write_all(md.as_bytes()));
            if let Err(err) = written {
                self.warn(&format!(
                    "warning: cannot append to GITHUB_STEP_SUMMARY ({}): {err}",
                    path.display()
                ));
            }
        }
    }

    fn human(&self, e: &Event) {
        let l = line(e);
        // On a terminal a hold is a bar with the time left; the samples
        // print above it, anything else ends it.
        let mut hold = self.hold.lock().unwrap_or_else(|p| p.into_inner());
        match (e, hold.as_ref()) {
            (Event::Holding { weight, seconds }, _) if self.live_progress() => {
                if let Some(old) = hold.take() {
                    old.finish_and_clear();
                }
                *hold = Some(super::progress::hold_bar(*weight, *seconds));
                return;
            }
            (Event::Sample { .. } | Event::Control { .. } | Event::Warning { .. }, Some(bar)) => {
                bar.println(&l);
                return;
            }
            (_, Some(_)) => {
                if let Some(bar) = hold.take() {
                    bar.finish_and_clear();
                }
            }
            _ => {}
        }
        drop(hold);
        match e {
            Event::Warning { .. } | Event::Restoring { .. } => self.warn(&l),
            _ => self.status(&l),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_is_read_from_the_environment() {
        let env = |k: &str| match k {
            "GITHUB_ACTIONS" => Some("true".to_string()),
            "GITHUB_STEP_SUMMARY" => Some("/tmp/s.md".to_string()),
            _ => None,
        };
        let ci = Ci::from_env(&env);
        assert!(ci.github && !ci.gitlab && !ci.plain);
        assert_eq!(ci.step_summary.unwrap().to_str(), Some("/tmp/s.md"));
        let gl =
            Ci::from_env(&|k: &str| ["GITLAB_CI", "CI"].contains(&k).then(|| "true".to_string()));
        assert!(gl.gitlab && !gl.plain && !gl.github);
        let plain = Ci::from_env(&|k: &str| (k == "CI").then(|| "1".to_string()));
        assert!(plain.plain && !plain.gitlab);
        assert!(!Ci::from_env(&|k: &str| (k == "CI").then(|| "false".to_string())).plain);
        assert_eq!(Ci::from_env(&|_| None), Ci::default());
        // A summary file without GitHub Actions is not GitHub's.
        let env = |k: &str| (k == "GITHUB_STEP_SUMMARY").then(|| "/tmp/x".to_string());
        assert_eq!(Ci::from_env(&env).step_summary, None);
    }

    #[test]
    fn object_lines_are_shown_to_people_only_with_verbose() {
        let applied = Event::ObjectApplied {
            object: "deployment.apps/github-green".into(),
            manager: "mcpctl-rollout".into(),
        };
        assert!(!shown_to_people(&applied, 0));
        assert!(shown_to_people(&applied, 1));
        let step = Event::StepStarted {
            index: 2,
            total: 6,
            text: "apply github-green".into(),
        };
        assert!(shown_to_people(&step, 0));
    }

    #[test]
    fn ndjson_lines_carry_time_and_kind() {
        let l = ndjson(
            &Event::Switched {
                from: "blue".into(),
                to: "green".into(),
            },
            "2026-12-01T00:00:00.000Z",
        );
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        assert_eq!(v["event"], "switched");
        assert_eq!(v["to"], "green");
        assert_eq!(v["time"], "2026-12-01T00:00:00.000Z");
        assert_eq!(v["schemaVersion"], crate::output::SCHEMA_VERSION);
        assert!(!l.contains('\n'));
    }

    #[test]
    fn github_groups_steps_and_annotates_failures() {
        let step = Event::StepStarted {
            index: 2,
            total: 5,
            text: "wait for gh-green".into(),
        };
        let (b, _) = github_commands(&step, true);
        assert_eq!(b, ["::endgroup::", "::group::[2/5] wait for gh-green"]);
        let gate = Event::Gate {
            gate: "smoke".into(),
            passed: false,
            detail: "tools/list: HTTP 500\nbody".into(),
        };
        let (_, a) = github_commands(&gate, true);
        assert_eq!(
            a,
            ["::error title=mcpctl smoke gate failed::tools/list: HTTP 500%0Abody"]
        );
        let fin = Event::Finished {
            outcome: "gate-failed".into(),
            exit_code: 3,
            message: "restored 100%".into(),
        };
        let (b, a) = github_commands(&fin, false);
        assert!(b.is_empty());
        assert_eq!(
            a,
            ["::error title=mcpctl gate-failed (exit 3)::restored 100%25"]
        );
    }

    #[test]
    fn gitlab_sections_wrap_a_step() {
        assert_eq!(
            gitlab_section(true, 2, "[2/5] wait", 1700000000),
            "\x1b[0Ksection_start:1700000000:mcpctl_step_2[collapsed=true]\r\x1b[0K[2/5] wait"
        );
        assert_eq!(
            gitlab_section(false, 2, "", 1700000001),
            "\x1b[0Ksection_end:1700000001:mcpctl_step_2\r\x1b[0K"
        );
    }

    #[test]
    fn the_summary_lists_what_happened() {
        let mut s = Summary::default();
        assert!(
            s.take(&Event::OperationStarted {
                id: "op".into(),
                kind: "deploy".into(),
                server: "gh".into(),
                strategy: "blue-green".into(),
                from: "a:1".into(),
                to: "a:2".into(),
                resumed_at: None,
            })
            .is_none()
        );
        s.take(&Event::Switched {
            from: "blue".into(),
            to: "green".into(),
        });
        let md = s
            .take(&Event::Finished {
                outcome: "succeeded".into(),
                exit_code: 0,
                message: String::new(),
            })
            .unwrap();
        assert!(
            md.starts_with("### mcpctl: deploy gh (blue-green): a:1 → a:2"),
            "{md}"
        );
        assert!(md.contains("**Outcome:** succeeded (exit 0)"));
        assert!(md.contains("- traffic switched from blue to green"));
    }
}
