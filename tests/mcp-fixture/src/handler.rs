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
}

impl std::str::FromStr for Era {
    type Err = String;
    fn from_str(s: &str) -> Result<Era, String> {
        match s {
            "legacy" => Ok(Era::Legacy),
            "modern" => Ok(Era::Modern),
            "dual" => Ok(Era::Dual),
            _ => Err(format!("unknown era {s:?}: legacy, modern or dual")),
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

impl Handler {
    fn page(&self, cursor: Option<&str>) -> Result<ListToolsResult, ErrorData> {
        let b = &self.0;
        let start = match cursor {
            None => 0,
            Some(c) => c
                .parse::<usize>()
                .ok()
                .filter(|&i| i <= b.tools.len())
                .ok_or_else(|| ErrorData::invalid_params(format!("unknown cursor {c:?}"), None))?,
        };
        let end = match b.page_size {
            Some(n) => (start + n.max(1)).min(b.tools.len()),
            None => b.tools.len(),
        };
        let mut result = ListToolsResult::with_all_items(b.tools[start..end].to_vec());
        if end < b.tools.len() {
            result.next_cursor = Some(end.to_string());
        }
        Ok(result)
    }
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
            Era::Legacy => Cow::Borrowed(ProtocolVersion::known_up_to(
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
        self.page(request.as_ref().and_then(|r| r.cursor.as_deref()))
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
