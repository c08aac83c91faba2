//! How a canary's traffic weight is set: one small trait, one file per
//! router ([`super::istio`], [`super::gateway`], [`super::replicas`]).
//! Pure: a router turns a weight into the writes that give it (the rollout
//! parts of the route, the replica counts), for the plan to carry.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::fleet::{Router, Server};
use crate::render::RolloutState;

/// Renders the objects of one server for a rollout state.
pub type Render<'a> = &'a dyn Fn(&RolloutState) -> Result<Vec<Value>>;

/// What sends `weight` percent of the traffic to the canary.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightChange {
    pub weight: u32,
    /// The weight really given (the replica ratio may not hit it exactly).
    pub achieved: u32,
    /// Rollout parts of the route objects to apply.
    pub objects: Vec<Value>,
    /// Deployment replica counts to apply with the weight, in order.
    pub scale: Vec<(String, u32)>,
    /// Pods the canary track runs at this weight (scaled up, and ready,
    /// before the weight is set).
    pub canary_replicas: u32,
}

/// A canary router.
pub trait WeightRouter {
    /// `istio`, `gateway-api`, `service`.
    fn name(&self) -> &'static str;
    /// The writes that send `weight` percent (0..=100) to the canary.
    fn weights(&self, weight: u32) -> Result<WeightChange>;
}

/// How many pods a canary server runs besides the canary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizing {
    /// The stable track's pods: the fleet's count, or with autoscaling what
    /// the autoscaler runs now (at least its minimum).
    pub stable: u32,
    /// The autoscaler owns the stable track's count (never written).
    pub autoscaled: bool,
    /// The autoscaler's maximum (the canary never runs more).
    pub max: u32,
}

impl Sizing {
    pub fn of(server: &Server, live_stable: u32) -> Sizing {
        match &server.autoscaling {
            Some(a) => Sizing {
                stable: live_stable.max(a.min_replicas).max(1),
                autoscaled: true,
                max: a.max_replicas.max(1),
            },
            None => Sizing {
                stable: server.replicas,
                autoscaled: false,
                max: server.replicas.max(1),
            },
        }
    }
}

/// The canary's Deployment.
pub fn canary_deployment(server: &str) -> String {
    format!("{server}-canary")
}

/// The router of a canary server.
pub fn for_server<'a>(
    server: &'a Server,
    sizing: Sizing,
    render: Render<'a>,
) -> Box<dyn WeightRouter + 'a> {
    match server.router {
        Router::Istio => Box::new(super::istio::Istio {
            server,
            sizing,
            render,
        }),
        Router::GatewayApi => Box::new(super::gateway::Gateway {
            server,
            sizing,
            render,
        }),
        Router::Service => Box::new(super::replicas::Replicas { server, sizing }),
    }
}

/// The rollout part of the route `kind`/server rendered at `weight`: what a
/// mesh router writes.
pub fn route_part(server: &Server, render: Render, kind: &str, weight: u32) -> Result<Value> {
    let state = RolloutState {
        canary_weight: weight,
        ..Default::default()
    };
    let obj = crate::render::rendered(&render(&state)?, kind, &server.name)?;
    super::split(&obj, server.strategy)
        .1
        .ok_or_else(|| Error::Template(format!("the {kind} {} renders no routes", server.name)))
}

/// A mesh router's change: the route at `weight`, the canary sized for it.
pub fn mesh_change(
    server: &Server,
    sizing: Sizing,
    render: Render,
    kind: &str,
    weight: u32,
) -> Result<WeightChange> {
    let weight = weight.min(100);
    Ok(WeightChange {
        weight,
        achieved: weight,
        objects: vec![route_part(server, render, kind, weight)?],
        scale: Vec::new(),
        canary_replicas: crate::render::context::canary_replicas(sizing.stable, weight)
            .min(sizing.max),
    })
}
