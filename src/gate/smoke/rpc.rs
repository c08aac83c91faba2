//! The JSON-RPC side of the smoke test, without I/O: the messages of both
//! protocol eras, the era a `server/discover` answer reveals, and the parts
//! of results the report needs.

use serde_json::{Value, json};

use super::FailureKind;
use crate::gate::tools::Tool;

/// The modern protocol revision (per-request `_meta`, `server/discover`).
pub const MODERN: &str = "2026-07-28";
/// Legacy revisions (an `initialize` handshake), newest first: the first is
/// offered, any is accepted.
pub const LEGACY: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

/// The JSON-RPC error codes only a modern server sends (2026-07-28 spec):
/// one of them in the answer to `server/discover` means a modern server.
pub const HEADER_MISMATCH: i64 = -32020;
pub const MISSING_CLIENT_CAPABILITY: i64 = -32021;
pub const UNSUPPORTED_VERSION: i64 = -32022;

pub fn client_info() -> Value {
    json!({"name": "mcpctl", "version": env!("CARGO_PKG_VERSION")})
}

/// A JSON-RPC request.
pub fn request(id: u64, method: &str, params: Option<Value>) -> Value {
    let mut m = json!({"jsonrpc": "2.0", "id": id, "method": method});
    if let Some(p) = params {
        m["params"] = p;
    }
    m
}

/// A modern request's params: `params` plus the per-request `_meta`.
pub fn modern_params(mut params: Value) -> Value {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientInfo": client_info(),
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    params
}

pub fn initialize_params() -> Value {
    json!({"protocolVersion": LEGACY[0], "capabilities": {}, "clientInfo": client_info()})
}

/// What the answer to a modern `server/discover` says about the server.
#[derive(Debug, PartialEq)]
pub enum Probe {
    /// A modern server: its discover result.
    Modern(Value),
    /// Not a modern server (or one that speaks only legacy versions): go on
    /// with `initialize`.
    Legacy,
    /// Neither: the smoke test fails here.
    Fail(FailureKind, String),
}

/// Decides the era from the HTTP status and the JSON-RPC message (if any)
/// answering `server/discover`, following the 2026-07-28 Streamable HTTP
/// backward-compatibility rules: a result or a recognised modern error means
/// a modern server; a 4xx without one (400 from a legacy server that wants a
/// session, 422 "expect initialize request" from rmcp 2, 404/405 from older
/// transports) or a JSON-RPC error a legacy server sends for an unknown
/// method means legacy. 401, 403, 406, 408 and 429 are not about the era:
/// they fail the test at once. An
/// `UnsupportedProtocolVersion` error whose `supported` list names only
/// legacy versions comes from a server that speaks only those: legacy too.
pub fn classify_discover(status: u16, message: Option<&Value>) -> Probe {
    if let Some(m) = message {
        if let Some(result) = m.get("result")
            && (200..300).contains(&status)
        {
            return Probe::Modern(result.clone());
        }
        if let Some(err) = m.get("error") {
            let code = err["code"].as_i64().unwrap_or(0);
            let text = err["message"].as_str().unwrap_or("").to_string();
            return match code {
                UNSUPPORTED_VERSION => {
                    let supported: Vec<&str> = err["data"]["supported"]
                        .as_array()
                        .map(|a| a.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    if supported.iter().any(|v| LEGACY.contains(v)) {
                        Probe::Legacy
                    } else {
                        Probe::Fail(
                            FailureKind::UnsupportedVersion,
                            format!(
                                "the server supports protocol versions [{}], none of which mcpctl speaks ({MODERN}, {})",
                                supported.join(", "),
                                LEGACY.join(", ")
                            ),
                        )
                    }
                }
                HEADER_MISMATCH | MISSING_CLIENT_CAPABILITY => Probe::Fail(
                    FailureKind::JsonRpc {
                        code,
                        message: text.clone(),
                    },
                    format!("the server rejected the request: {text} (JSON-RPC error {code})"),
                ),
                _ => Probe::Legacy,
            };
        }
    }
    match status {
        // Refusals that would refuse initialize as well are failures here.
        401 | 403 | 406 | 408 | 429 => {
            Probe::Fail(FailureKind::HttpStatus { status }, String::new())
        }
        400..=499 => Probe::Legacy,
        s if (200..300).contains(&s) => Probe::Fail(
            FailureKind::Protocol,
            format!("HTTP {s} without a JSON-RPC response to server/discover"),
        ),
        s => Probe::Fail(FailureKind::HttpStatus { status: s }, String::new()),
    }
}

/// Name and version from a discover result (`_meta` serverInfo).
pub fn discover_server_info(result: &Value) -> (String, String) {
    let info = &result["_meta"]["io.modelcontextprotocol/serverInfo"];
    let info = if info.is_object() {
        info
    } else {
        &result["serverInfo"]
    };
    (
        info["name"].as_str().unwrap_or("").to_string(),
        info["version"].as_str().unwrap_or("").to_string(),
    )
}

/// One page of a `tools/list` result: the tools and the next cursor.
pub fn tools_page(result: &Value) -> Result<(Vec<Tool>, Option<String>), String> {
    let tools = result
        .get("tools")
        .ok_or_else(|| "the tools/list result has no `tools`".to_string())?;
    let tools: Vec<Tool> = serde_json::from_value(tools.clone())
        .map_err(|e| format!("the tools/list result has a malformed tool: {e}"))?;
    let cursor = match result.get("nextCursor") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => return Err(format!("nextCursor is not a string: {other}")),
    };
    Ok((tools, cursor))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: i64, data: Value) -> Value {
        json!({"jsonrpc": "2.0", "id": 1, "error": {"code": code, "message": "m", "data": data}})
    }

    #[test]
    fn a_result_means_modern() {
        let m = json!({"jsonrpc": "2.0", "id": 1, "result": {"supportedVersions": [MODERN]}});
        assert_eq!(
            classify_discover(200, Some(&m)),
            Probe::Modern(json!({"supportedVersions": [MODERN]}))
        );
    }

    #[test]
    fn a_400_without_a_modern_error_means_legacy() {
        // rmcp before 3.0: "Bad Request: Session ID is required" as text.
        assert_eq!(classify_discover(400, None), Probe::Legacy);
        assert_eq!(classify_discover(404, None), Probe::Legacy);
        assert_eq!(classify_discover(405, None), Probe::Legacy);
        // rmcp 2.2: "Unexpected message, expect initialize request".
        assert_eq!(classify_discover(422, None), Probe::Legacy);
        // A legacy server that does not know the method.
        assert_eq!(
            classify_discover(200, Some(&err(-32601, Value::Null))),
            Probe::Legacy
        );
        assert_eq!(
            classify_discover(400, Some(&err(-32600, Value::Null))),
            Probe::Legacy
        );
    }

    #[test]
    fn unsupported_version_listing_legacy_versions_means_legacy() {
        let m = err(
            UNSUPPORTED_VERSION,
            json!({"supported": ["2025-06-18", "2025-11-25"], "requested": MODERN}),
        );
        assert_eq!(classify_discover(400, Some(&m)), Probe::Legacy);
    }

    #[test]
    fn unsupported_version_listing_unknown_versions_fails() {
        let m = err(UNSUPPORTED_VERSION, json!({"supported": ["2027-01-01"]}));
        match classify_discover(400, Some(&m)) {
            Probe::Fail(FailureKind::UnsupportedVersion, msg) => {
                assert!(msg.contains("[2027-01-01]"), "{msg}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn other_modern_errors_fail_instead_of_falling_back() {
        for code in [HEADER_MISMATCH, MISSING_CLIENT_CAPABILITY] {
            match classify_discover(400, Some(&err(code, Value::Null))) {
                Probe::Fail(FailureKind::JsonRpc { code: c, .. }, _) => assert_eq!(c, code),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn auth_and_server_errors_fail_at_discover() {
        for s in [401, 403, 406, 408, 429, 500, 503] {
            assert_eq!(
                classify_discover(s, None),
                Probe::Fail(FailureKind::HttpStatus { status: s }, String::new())
            );
        }
        assert!(matches!(
            classify_discover(200, None),
            Probe::Fail(FailureKind::Protocol, _)
        ));
    }

    #[test]
    fn modern_params_carry_meta() {
        let p = modern_params(json!({"cursor": "2"}));
        assert_eq!(p["cursor"], "2");
        assert_eq!(
            p["_meta"]["io.modelcontextprotocol/protocolVersion"],
            MODERN
        );
        assert_eq!(
            p["_meta"]["io.modelcontextprotocol/clientInfo"]["name"],
            "mcpctl"
        );
        assert!(p["_meta"]["io.modelcontextprotocol/clientCapabilities"].is_object());
    }

    #[test]
    fn server_info_from_discover_meta() {
        let r =
            json!({"_meta": {"io.modelcontextprotocol/serverInfo": {"name": "a", "version": "1"}}});
        assert_eq!(discover_server_info(&r), ("a".into(), "1".into()));
        let r = json!({"serverInfo": {"name": "b", "version": "2"}});
        assert_eq!(discover_server_info(&r), ("b".into(), "2".into()));
    }

    #[test]
    fn tools_page_reads_tools_and_cursor() {
        let r =
            json!({"tools": [{"name": "t", "inputSchema": {"type": "object"}}], "nextCursor": "5"});
        let (tools, cursor) = tools_page(&r).unwrap();
        assert_eq!(tools[0].name, "t");
        assert_eq!(cursor.as_deref(), Some("5"));
        let (_, cursor) = tools_page(&json!({"tools": []})).unwrap();
        assert_eq!(cursor, None);
        assert!(tools_page(&json!({})).is_err());
        assert!(tools_page(&json!({"tools": [{"description": "no name"}]})).is_err());
        assert!(tools_page(&json!({"tools": [], "nextCursor": 3})).is_err());
    }
}
