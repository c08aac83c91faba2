//! A server on rmcp 2.2, the last release of the SDK before the 2026-07-28
//! revision: a legacy server as deployed today. It knows nothing of
//! `server/discover`, so a modern probe gets what such servers answer (HTTP
//! 400, "Session ID is required", no JSON-RPC error), the answer a client
//! must read as "legacy, fall back to initialize".

use std::sync::Arc;

use rmcp2::model::{
    Implementation, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerInfo, Tool,
};
use rmcp2::service::RequestContext;
use rmcp2::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp2::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp2::{ErrorData, RoleServer, ServerHandler};

use crate::handler::Behaviour;

#[derive(Clone)]
pub struct OldHandler {
    behaviour: Arc<Behaviour>,
    tools: Arc<Vec<Tool>>,
}

impl OldHandler {
    pub fn new(behaviour: Arc<Behaviour>) -> OldHandler {
        // Tools cross SDK versions as MCP JSON.
        let json = serde_json::to_value(&behaviour.tools).expect("tools serialize");
        let tools = serde_json::from_value(json).expect("rmcp 2 reads rmcp 3 tools");
        OldHandler {
            behaviour,
            tools: Arc::new(tools),
        }
    }
}

impl ServerHandler for OldHandler {
    fn get_info(&self) -> ServerInfo {
        ServerInfo::new(ServerCapabilities::builder().enable_tools().build()).with_server_info(
            Implementation::new(&self.behaviour.name, &self.behaviour.version),
        )
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let cursor = request.as_ref().and_then(|r| r.cursor.as_deref());
        let (range, next) =
            crate::handler::page(cursor, self.tools.len(), self.behaviour.page_size)
                .map_err(|e| ErrorData::invalid_params(e, None))?;
        let mut result = ListToolsResult::with_all_items(self.tools[range].to_vec());
        result.next_cursor = next;
        Ok(result)
    }
}

pub type OldService = StreamableHttpService<OldHandler, LocalSessionManager>;

pub fn service(behaviour: Arc<Behaviour>, json_response: bool) -> OldService {
    let handler = OldHandler::new(behaviour);
    let config = StreamableHttpServerConfig::default()
        .with_stateful_mode(!json_response)
        .with_json_response(json_response)
        .with_sse_keep_alive(None)
        .disable_allowed_hosts();
    StreamableHttpService::new(
        move || Ok(handler.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    )
}
