//! Gateway API: the HTTPRoute's `backendRefs` weights over the `-stable`
//! and `-canary` Services.

use super::router::{Render, Sizing, WeightChange, WeightRouter, mesh_change};
use crate::error::Result;
use crate::fleet::Server;

pub struct Gateway<'a> {
    pub server: &'a Server,
    pub sizing: Sizing,
    pub render: Render<'a>,
}

impl WeightRouter for Gateway<'_> {
    fn name(&self) -> &'static str {
        "gateway-api"
    }
    fn weights(&self, weight: u32) -> Result<WeightChange> {
        mesh_change(self.server, self.sizing, self.render, "HTTPRoute", weight)
    }
}
