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
        }
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
