//! What a server runs now: its live Deployments, Services and routes, read
//! in a few requests and queried by the strategies (which stay pure).

use serde_json::Value;

use crate::cluster::observe;
use crate::cluster::wait::{self, Rollout};
use crate::cluster::{Cluster, Req};
use crate::error::Result;
use crate::fleet::Server;
use crate::render::Colour;

/// The live objects of one server (every item with its `kind` set).
#[derive(Debug, Clone, Default)]
pub struct Live {
    pub objects: Vec<Value>,
}

impl Live {
    pub fn new(objects: Vec<Value>) -> Live {
        Live { objects }
    }

    fn find(&self, kind: &str, name: &str) -> Option<&Value> {
        self.objects
            .iter()
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
    }

    pub fn deployment(&self, name: &str) -> Option<&Value> {
        self.find("Deployment", name)
    }

    /// Whether the server has any Deployment (it is installed).
    pub fn installed(&self) -> bool {
        self.objects.iter().any(|o| o["kind"] == "Deployment")
    }

    pub fn image(&self, deployment: &str, server: &str) -> Option<String> {
        observe::deployment_image(self.deployment(deployment)?, server)
    }

    pub fn replicas(&self, deployment: &str) -> u32 {
        self.deployment(deployment)
            .and_then(|d| d["spec"]["replicas"].as_u64())
            .unwrap_or(0) as u32
    }

    /// Whether the Deployment runs at least one pod and has fully rolled out.
    pub fn serving(&self, deployment: &str) -> bool {
        self.deployment(deployment).is_some_and(|d| {
            d["spec"]["replicas"].as_u64().unwrap_or(1) > 0
                && matches!(wait::evaluate(d), Rollout::Complete(_))
        })
    }

    /// The active colour of a blue-green server (blue when nothing says).
    pub fn active_colour(&self, server: &str) -> Colour {
        observe::active_colour(server, &self.objects).unwrap_or_default()
    }

    /// What sends traffic for `kind`/`name`, by [`crate::traffic::traffic_of`].
    pub fn traffic(&self, kind: &str, name: &str) -> Option<Value> {
        crate::traffic::traffic_of(self.find(kind, name)?)
    }
}

/// Reads a server's Deployments and Services (by label) and its route, if
/// its router has one.
pub async fn read(cluster: &Cluster, ns: &str, fleet: &str, server: &Server) -> Result<Live> {
    let sel = format!(
        "app.kubernetes.io/name={},app.kubernetes.io/part-of={fleet}",
        server.name
    );
    let mut objects = Vec::new();
    for (kind, path) in [
        (
            "Deployment",
            format!("/apis/apps/v1/namespaces/{ns}/deployments"),
        ),
        ("Service", format!("/api/v1/namespaces/{ns}/services")),
    ] {
        for mut o in cluster.list(&path, Some(&sel)).await? {
            o["kind"] = Value::String(kind.to_string());
            objects.push(o);
        }
    }
    let route = match server.router {
        crate::fleet::Router::Istio => Some((
            "VirtualService",
            format!(
                "/apis/networking.istio.io/v1/namespaces/{ns}/virtualservices/{}",
                server.name
            ),
        )),
        crate::fleet::Router::GatewayApi => Some((
            "HTTPRoute",
            format!(
                "/apis/gateway.networking.k8s.io/v1/namespaces/{ns}/httproutes/{}",
                server.name
            ),
        )),
        crate::fleet::Router::Service => None,
    };
    if let Some((kind, path)) = route {
        let req = Req::get(&path);
        let resp = cluster.send(&req).await?;
        if resp.ok() {
            let mut o = resp.json()?;
            o["kind"] = Value::String(kind.to_string());
            objects.push(o);
        } else if resp.status != 404 {
            return Err(cluster.api_error(&req, &resp));
        }
    }
    Ok(Live { objects })
}
