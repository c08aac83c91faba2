//! `mcp-fixture`: the test MCP server as a process, for end-to-end tests that
//! need a stand-in for a server's pod.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use mcp_fixture::{Era, McpFixture};

#[derive(Debug, Parser)]
#[command(name = "mcp-fixture", about = "A real MCP server (rmcp) for tests")]
struct Args {
    /// Port to listen on (0: any free port)
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Listen on every interface, not only loopback
    #[arg(long)]
    bind_all: bool,
    /// JSON file with the tool list, as `tools/list` returns it
    #[arg(long, value_name = "FILE")]
    tools: Option<PathBuf>,
    /// Protocol era: legacy (2025-11-25), modern (2026-07-28), dual, or
    /// legacy-sdk (2025-11-25 on rmcp 2.2, which predates server/discover)
    #[arg(long, default_value = "dual")]
    era: Era,
    /// serverInfo name
    #[arg(long, default_value = "fixture")]
    name: String,
    /// serverInfo version
    #[arg(long = "server-version", default_value = "0.0.0")]
    server_version: String,
    /// Answer with application/json instead of SSE (no legacy sessions)
    #[arg(long)]
    json: bool,
    /// Tools per tools/list page
    #[arg(long)]
    page_size: Option<usize>,
    /// Milliseconds tools/list takes
    #[arg(long, value_name = "MS")]
    slow_tools_list_ms: Option<u64>,
    /// Answer every POST with this HTTP status
    #[arg(long)]
    http_status: Option<u16>,
    /// Require `Authorization: Bearer TOKEN`
    #[arg(long, env = "MCP_FIXTURE_BEARER", hide_env_values = true)]
    bearer: Option<String>,
    /// tools/list fails with this JSON-RPC error code
    #[arg(long)]
    tools_list_error: Option<i32>,
    /// initialize negotiates this protocol version
    #[arg(long)]
    answer_protocol_version: Option<String>,
}

fn main() {
    let a = Args::parse();
    let mut b = McpFixture::builder()
        .era(a.era)
        .server_info(&a.name, &a.server_version)
        .json_response(a.json)
        .port(a.port)
        .bind_all(a.bind_all);
    if let Some(path) = &a.tools {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", path.display())));
        let value: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| fail(&format!("{} is not JSON: {e}", path.display())));
        // Either a bare list or a tools/list result.
        let list = match value.get("tools") {
            Some(t) => t.clone(),
            None => value,
        };
        let tools = mcp_fixture::parse_tools(list)
            .unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
        b = b.tools(tools);
    }
    if let Some(n) = a.page_size {
        b = b.page_size(n);
    }
    if let Some(ms) = a.slow_tools_list_ms {
        b = b.slow_tools_list(Duration::from_millis(ms));
    }
    if let Some(s) = a.http_status {
        b = b.http_status(s);
    }
    if let Some(t) = &a.bearer {
        b = b.bearer_token(t);
    }
    if let Some(code) = a.tools_list_error {
        b = b.tools_list_error(code, "fixture: tools/list fails");
    }
    if let Some(v) = &a.answer_protocol_version {
        b = b.answer_protocol_version(v);
    }
    let fx = b.start_blocking();
    println!("listening on {}", fx.url());
    loop {
        std::thread::park();
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("mcp-fixture: {msg}");
    std::process::exit(2)
}
