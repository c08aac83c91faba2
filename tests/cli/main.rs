//! Integration tests: run the real `mcpctl` binary. One test binary for all of
//! them, so the suite links once.

mod support;

mod completions;
mod fleet_errors;
mod lint;
mod render;
