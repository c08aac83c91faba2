//! The `mcp-fixture` binary, as end-to-end tests run it: it reads its tool
//! list from a file, says where it listens, and serves MCP there.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One modern `tools/list` POST of `body` to `url`; the whole answer as text.
fn post(url: &str, body: &str) -> String {
    let addr = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let mut s = std::net::TcpStream::connect(&addr).expect("connect to the fixture");
    write!(
        s,
        "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2026-07-28\r\n\
         Mcp-Method: tools/list\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn serves_the_tools_of_its_file_in_the_chosen_era() {
    let dir = tempfile::tempdir().unwrap();
    let tools = dir.path().join("tools.json");
    std::fs::write(
        &tools,
        r#"{"tools": [{"name": "echo", "inputSchema": {"type": "object"}}]}"#,
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_mcp-fixture"))
        .args([
            "--era",
            "modern",
            "--json",
            "--name",
            "pod",
            "--server-version",
            "9.9.9",
        ])
        .arg("--tools")
        .arg(&tools)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start mcp-fixture");
    let mut child = Killed(child);
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .to_string();
    let meta = r#""_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"}, "io.modelcontextprotocol/clientCapabilities": {}}"#;
    let answer = post(
        &url,
        &format!(r#"{{"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {{{meta}}}}}"#),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""name":"echo""#), "{answer}");
}

#[test]
fn a_bad_tool_file_is_refused_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let tools = dir.path().join("tools.json");
    std::fs::write(&tools, r#"[{"description": "no name"}]"#).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_mcp-fixture"))
        .arg("--tools")
        .arg(&tools)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not a valid MCP tool list"), "{err}");
}
