use std::io::{IsTerminal, Write};

use crate::cli::{EventsFormat, GlobalArgs, OutputFormat};
use crate::error::Error;

/// Knows the output format and how chatty to be; every command prints through it.
#[derive(Debug)]
pub struct Printer {
    pub format: OutputFormat,
    pub verbose: u8,
    pub quiet: bool,
    pub color: bool,
    pub events: EventsFormat,
    /// Running in GitHub Actions: groups, annotations, a step summary.
    pub ci: super::events::Ci,
    /// What the operation did so far, for the CI step summary.
    pub(super) summary: std::sync::Mutex<super::events::Summary>,
    /// A canary hold's bar, while one is shown (a terminal only).
    pub(super) hold: std::sync::Mutex<Option<indicatif::ProgressBar>>,
}

impl Printer {
    pub fn new(g: &GlobalArgs) -> Self {
        let color = !g.no_color
            && std::env::var_os("NO_COLOR").is_none()
            && std::io::stderr().is_terminal();
        Printer {
            format: g.output,
            verbose: g.verbose,
            quiet: g.quiet,
            color,
            events: g.events,
            ci: super::events::Ci::from_env(&|k| std::env::var(k).ok()),
            summary: Default::default(),
            hold: Default::default(),
        }
    }

    /// Whether progress is drawn live (spinners, bars): stderr is a terminal
    /// and `-q` is not given.
    pub fn live_progress(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }

    /// Logs go to stderr through `tracing`; `-v` raises the level, `-q` lowers it.
    /// `MCPCTL_LOG` (an env-filter directive) overrides both.
    pub fn init_logging(&self) {
        let level = if self.quiet {
            "error"
        } else {
            match self.verbose {
                0 => "warn",
                1 => "info",
                2 => "debug",
                _ => "trace",
            }
        };
        let filter = tracing_subscriber::EnvFilter::try_from_env("MCPCTL_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("mcpctl={level}")));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(self.color)
            .with_target(false)
            .without_time()
            .try_init();
    }

    /// Writes data to stdout.
    pub fn data(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        if !text.ends_with('\n') && !text.is_empty() {
            let _ = out.write_all(b"\n");
        }
    }

    /// A progress or status line on stderr (suppressed by `-q`).
    pub fn status(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }

    /// A warning on stderr (suppressed by `-q`).
    pub fn warn(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }

    /// A question on stderr, without a newline, for an answer typed on stdin.
    pub fn prompt(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(text.as_bytes());
        let _ = err.flush();
    }

    pub fn error(&self, e: &Error) {
        eprintln!("{}", error_text(e));
    }

    /// A document for `-o json|yaml`: `body`'s fields after `schemaVersion`.
    /// `body` must serialize as a mapping (a list goes under a named field).
    pub fn document<T: serde::Serialize>(&self, body: &T) -> crate::error::Result<String> {
        self.structured(&versioned(body)?)
    }

    /// Serializes a value as JSON or YAML for `-o json|yaml`.
    pub fn structured<T: serde::Serialize>(&self, value: &T) -> crate::error::Result<String> {
        match self.format {
            OutputFormat::Json => serde_json::to_string_pretty(value)
                .map(|s| s + "\n")
                .map_err(|e| Error::Failed(format!("cannot encode output as JSON: {e}"))),
            _ => serde_saphyr::to_string(value)
                .map_err(|e| Error::Failed(format!("cannot encode output as YAML: {e}"))),
        }
    }
}

fn error_text(e: &Error) -> String {
    match e {
        // Diagnostics already start with "error:"/"warning:".
        Error::Invalid(_) => e.to_string(),
        _ => format!("error: {e}"),
    }
}

/// `body` as a mapping that starts with `schemaVersion`.
fn versioned<T: serde::Serialize>(body: &T) -> crate::error::Result<serde_json::Value> {
    let encode = |e: serde_json::Error| Error::Failed(format!("cannot encode output: {e}"));
    let serde_json::Value::Object(fields) = serde_json::to_value(body).map_err(encode)? else {
        return Err(Error::Failed(
            "an output document must be a mapping of fields".into(),
        ));
    };
    let mut doc = serde_json::Map::new();
    doc.insert("schemaVersion".into(), super::SCHEMA_VERSION.into());
    doc.extend(fields);
    Ok(serde_json::Value::Object(doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_start_with_the_schema_version() {
        #[derive(serde::Serialize)]
        struct Body {
            servers: Vec<u32>,
        }
        let doc = versioned(&Body {
            servers: vec![1, 2],
        })
        .unwrap();
        assert_eq!(
            serde_json::to_string(&doc).unwrap(),
            format!(
                r#"{{"schemaVersion":{},"servers":[1,2]}}"#,
                super::super::SCHEMA_VERSION
            )
        );
        assert!(versioned(&vec![1]).is_err());
    }
}
