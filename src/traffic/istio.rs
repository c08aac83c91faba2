//! Istio: the VirtualService's route weights over the DestinationRule's
//! `stable` and `canary` subsets.

use super::router::{Render, Sizing, WeightChange, WeightRouter, mesh_change};
use crate::error::Result;
use crate::fleet::Server;

pub struct Istio<'a> {
    pub server: &'a Server,
    pub sizing: Sizing,
    pub render: Render<'a>,
}

impl WeightRouter for Istio<'_> {
    fn name(&self) -> &'static str {
        "istio"
    }
    fn weights(&self, weight: u32) -> Result<WeightChange> {
        mesh_change(
            self.server,
            self.sizing,
            self.render,
            "VirtualService",
            weight,
        )
    }
}
