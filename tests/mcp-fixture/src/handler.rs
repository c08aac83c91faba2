//! The MCP side of the fixture: an rmcp `ServerHandler` serving a chosen tool
//! list, in pages of a chosen size, for the protocol versions of a chosen era,
//! with the protocol-level failures a test asks for.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ErrorCode,
    Implementation, ListToolsResult, PaginatedRequestParams, ProtocolVersion, ServerCapabilities,
    ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};

/// Which protocol revisions the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// 2025-11-25 and older: `initialize` handshake, sessions, `ping`.
    Legacy,
    /// 2026-07-28 only: `server/discover`, per-request `_meta`, no sessions.
    Modern,
    /// Both, as rmcp serves them by default.
    Dual,
    /// Legacy, served by rmcp 2.2, which predates 2026-07-28 and knows
    /// nothing of `server/discover` (see `legacy_sdk`).
    LegacySdk,
}

impl std::str::FromStr for Era {
    type Err = String;
    fn from_str(s: &str) -> Result<Era, String> {
        match s {
            "legacy" => Ok(Era::Legacy),
            "modern" => Ok(Era::Modern),
            "dual" => Ok(Era::Dual),
            "legacy-sdk" => Ok(Era::LegacySdk),
            _ => Err(format!(
                "unknown era {s:?}: legacy, modern, dual or legacy-sdk"
            )),
        }
    }
}

/// Everything the handler answers with, shared by every session.
#[derive(Debug, Clone)]
pub struct Behaviour {
    pub name: String,
    pub version: String,
    pub era: Era,
    pub tools: Vec<Tool>,
    /// Tools per `tools/list` page (`None`: one page).
    pub page_size: Option<usize>,
    /// How long `tools/list` takes to answer.
    pub tools_list_delay: Option<Duration>,
    /// `tools/list` fails with this JSON-RPC error (code, message).
    pub tools_list_error: Option<(i32, String)>,
    /// `initialize` negotiates this version whatever the client asks for.
    pub answer_version: Option<String>,
}

#[derive(Clone)]
pub struct Handler(pub Arc<Behaviour>);

/// The page of a list of `len` items that `cursor` (the index of its first
/// item, as the previous page's `nextCursor` said) starts, and the next
/// cursor when more follow.
pub fn page(
    cursor: Option<&str>,
    len: usize,
    page_size: Option<usize>,
) -> Result<(std::ops::Range<usize>, Option<String>), String> {
    let start = match cursor {
        None => 0,
        Some(c) => c
            .parse::<usize>()
            .ok()
            .filter(|&i| i <= len)
            .ok_or_else(|| format!("unknown cursor {c:?}"))?,
    };
    let end = match page_size {
        Some(n) => (start + n.max(1)).min(len),
        None => len,
    };
    Ok((start..end, (end < len).then(|| end.to_string())))
}

impl ServerHandler for Handler {
    fn get_info(&self) -> ServerConfig {
        let info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(&self.0.name, &self.0.version));
        match &self.0.answer_version {
            Some(v) => info.with_protocol_version(version(v)),
            None => info,
        }
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        if let Some(v) = &self.0.answer_version {
            return Cow::Owned(vec![version(v)]);
        }
        match self.0.era {
            Era::Legacy | Era::LegacySdk => Cow::Borrowed(ProtocolVersion::known_up_to(
                &ProtocolVersion::LATEST_WITH_INITIALIZE,
            )),
            Era::Modern => Cow::Owned(vec![ProtocolVersion::V_2026_07_28]),
            Era::Dual => Cow::Borrowed(ProtocolVersion::KNOWN_VERSIONS),
        }
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        if let Some(d) = self.0.tools_list_delay {
            tokio::time::sleep(d).await;
        }
        if let Some((code, message)) = &self.0.tools_list_error {
            return Err(ErrorData::new(ErrorCode(*code), message.clone(), None));
        }
        let cursor = request.as_ref().and_then(|r| r.cursor.as_deref());
        let (range, next) = page(cursor, self.0.tools.len(), self.0.page_size)
            .map_err(|e| ErrorData::invalid_params(e, None))?;
        let mut result = ListToolsResult::with_all_items(self.0.tools[range].to_vec());
        result.next_cursor = next;
        Ok(result)
    }

    /// Every tool answers with its arguments as text, so that a smoke test
    /// calling one gets a real result.
    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if !self.0.tools.iter().any(|t| t.name == request.name) {
            return Err(ErrorData::invalid_params(
                format!("no tool named {}", request.name),
                None,
            ));
        }
        let text = serde_json::to_string(&request.arguments.unwrap_or_default())
            .unwrap_or_else(|_| "{}".into());
        Ok(CallToolResult::success(vec![ContentBlock::text(text)]).into())
    }
}

/// A protocol version from its string (rmcp keeps unknown ones as they are).
fn version(v: &str) -> ProtocolVersion {
    serde_json::from_value(serde_json::Value::String(v.to_string()))
        .expect("any string is a protocol version")
}
