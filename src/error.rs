//! Errors that carry their exit code.
//!
//! Exit codes are part of mcpctl's contract with CI pipelines (see the README),
//! so every error says which one it maps to, and the codes are named here once.

use crate::fleet::Diagnostic;

/// Process exit codes.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// A runtime error (cluster unreachable, lint errors, I/O failure).
    pub const ERROR: u8 = 1;
    /// Usage error or invalid input (bad flags, bad fleet file, bad template).
    pub const USAGE: u8 = 2;
    /// A gate failed and traffic was restored to the healthy version.
    pub const GATE_FAILED_RESTORED: u8 = 3;
    /// A gate failed outside a rollout (`smoke`: the smoke test, breaking
    /// tool changes); the same code as [`GATE_FAILED_RESTORED`].
    pub const GATE_FAILED: u8 = GATE_FAILED_RESTORED;
    /// Timed out waiting (traffic is on the last good version).
    pub const TIMEOUT: u8 = 4;
    /// Another operation holds the lock.
    pub const LOCKED: u8 = 5;
    /// Interrupted (a signal, `mcpctl abort`); traffic was restored.
    pub const INTERRUPTED: u8 = 6;
    /// Traffic could not be restored: manual action needed.
    pub const UNRESTORED: u8 = 7;
    /// `certs status`: every certificate is valid, but one expires within
    /// the warning window (a scheduled job alerts on it).
    pub const EXPIRES_SOON: u8 = 8;
    /// A second signal: exit at once.
    pub const SIGNAL_AGAIN: u8 = 130;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flags or arguments.
    #[error("{0}")]
    Usage(String),
    /// The fleet file (or another input) is invalid; every problem found is listed.
    #[error("{}", render_diagnostics(.0))]
    Invalid(Vec<Diagnostic>),
    /// A template failed to load or render.
    #[error("{0}")]
    Template(String),
    /// An operation failed at run time; exits 1.
    #[error("{0}")]
    Failed(String),
    /// A write that is not idempotent failed in a way that leaves unknown
    /// whether it was applied (its answer was lost): read before resending.
    #[error("{0}")]
    Uncertain(String),
    /// An error with an explicit exit code (gate failed, timed out, locked).
    #[error("{message}")]
    WithCode { code: u8, message: String },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

fn render_diagnostics(ds: &[Diagnostic]) -> String {
    let mut out = String::new();
    for (i, d) in ds.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&d.to_string());
    }
    out
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Invalid(_) | Error::Template(_) => exit::USAGE,
            Error::Failed(_) | Error::Uncertain(_) | Error::Io(_) => exit::ERROR,
            Error::WithCode { code, .. } => *code,
        }
    }
}

/// An error and its sources as one line, each source once.
pub fn source_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !msg.contains(&t) {
            msg.push_str(": ");
            msg.push_str(&t);
        }
        src = s.source();
    }
    msg
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
