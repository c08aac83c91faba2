//! The rollout state of a server read back from its live objects, so that
//! `apply` and `diff` render what is running (active colour, canary weight,
//! the images and replica counts of the non-primary tracks) instead of
//! resetting a blue-green or canary server to a fresh install.
//!
//! Rule: `apply` makes the cluster match the fleet file except for what the
//! rollout strategies own. A rolling server takes the fleet file's image (the
//! Deployment rolls). A blue-green or canary server keeps its live images and
//! traffic split: a new image goes out through `mcpctl deploy`, which runs the
//! strategy's gates; `apply` warns when the file and the cluster differ.

use serde_json::Value;

use super::journal::Operation;
use crate::fleet::{Server, Strategy};
use crate::render::{Colour, RolloutState, Track, TrackState};

const TRACK: &str = "mcpctl.io/track";
const COLOUR: &str = "mcpctl.io/colour";

/// Which Deployment a live object is, from its labels.
pub fn track_of(obj: &Value) -> Option<Track> {
    let labels = &obj["metadata"]["labels"];
    match (labels[COLOUR].as_str(), labels[TRACK].as_str()) {
        (Some("blue"), _) => Some(Track::Blue),
        (Some("green"), _) => Some(Track::Green),
        (_, Some("canary")) => Some(Track::Canary),
        (_, Some("stable")) => Some(Track::Stable),
        _ => None,
    }
}

/// Image of the server's container in a Deployment (the container named like
/// the server, else the first).
pub fn deployment_image(dep: &Value, server: &str) -> Option<String> {
    let containers = dep["spec"]["template"]["spec"]["containers"].as_array()?;
    let c = containers
        .iter()
        .find(|c| c["name"] == server)
        .or_else(|| containers.first())?;
    c["image"].as_str().map(str::to_string)
}

/// Active colour of a blue-green server: the main Service's colour selector,
/// else the route that sends all traffic to one colour.
pub fn active_colour(server: &str, live: &[Value]) -> Option<Colour> {
    for o in live {
        if o["kind"] == "Service" && o["metadata"]["name"] == server {
            match o["spec"]["selector"][COLOUR].as_str() {
                Some("blue") => return Some(Colour::Blue),
                Some("green") => return Some(Colour::Green),
                _ => {}
            }
        }
    }
    for (dest, weight) in route_weights(server, live) {
        if weight == 100 {
            if dest.ends_with("blue") {
                return Some(Colour::Blue);
            }
            if dest.ends_with("green") {
                return Some(Colour::Green);
            }
        }
    }
    None
}

/// (destination, weight) pairs of the server's VirtualService or HTTPRoute:
/// Istio subsets by subset name, Gateway API backendRefs by Service name.
pub fn route_weights(server: &str, live: &[Value]) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for o in live {
        let mine = o["metadata"]["labels"]["app.kubernetes.io/name"] == server
            || o["metadata"]["name"] == server;
        if !mine {
            continue;
        }
        match o["kind"].as_str() {
            Some("VirtualService") => {
                for http in o["spec"]["http"].as_array().into_iter().flatten().take(1) {
                    for r in http["route"].as_array().into_iter().flatten() {
                        let dest = r["destination"]["subset"]
                            .as_str()
                            .unwrap_or("")
                            .to_string();
                        let w = r["weight"].as_u64().unwrap_or(100) as u32;
                        out.push((dest, w));
                    }
                }
            }
            Some("HTTPRoute") => {
                for rule in o["spec"]["rules"].as_array().into_iter().flatten().take(1) {
                    for b in rule["backendRefs"].as_array().into_iter().flatten() {
                        let dest = b["name"].as_str().unwrap_or("").to_string();
                        let w = b["weight"].as_u64().unwrap_or(1) as u32;
                        out.push((dest, w));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Canary weight from the live route, else from the in-flight record.
pub fn canary_weight(server: &str, live: &[Value], inflight: Option<&Operation>) -> Option<u32> {
    let weights = route_weights(server, live);
    let total: u32 = weights.iter().map(|(_, w)| *w).sum();
    if total > 0
        && let Some((_, w)) = weights
            .iter()
            .find(|(d, _)| d == "canary" || d.ends_with("-canary"))
    {
        return Some(w * 100 / total);
    }
    inflight.and_then(|i| i.weights.get("canary").copied())
}

/// The rollout state to render a server with, from its live objects, and the
/// warnings for differences `apply` leaves to `deploy`.
///
/// A rolling server follows the fleet file's image until it has been
/// deployed (`deployed`: its last revision is a deploy or a rollback); from
/// then on `apply` keeps the deployed image, as for the other strategies.
pub fn rollout_state(
    server: &Server,
    live: &[Value],
    inflight: Option<&Operation>,
    deployed: bool,
) -> (RolloutState, Vec<String>) {
    let mut state = RolloutState::default();
    let mut warnings = Vec::new();
    if server.strategy == Strategy::Rolling && !deployed {
        return (state, warnings);
    }
    let deployments: Vec<&Value> = live
        .iter()
        .filter(|o| {
            o["kind"] == "Deployment"
                && o["metadata"]["labels"]["app.kubernetes.io/name"] == server.name.as_str()
        })
        .collect();
    if deployments.is_empty() {
        return (state, warnings); // fresh install
    }
    if let Some(c) = active_colour(&server.name, live) {
        state.active_colour = c;
    }
    state.canary_weight = canary_weight(&server.name, live, inflight).unwrap_or(0);
    let primary = match server.strategy {
        Strategy::BlueGreen => Track::from(state.active_colour),
        _ => Track::Stable,
    };
    for d in &deployments {
        // A rolling server's one Deployment carries no track label.
        let Some(track) =
            track_of(d).or((server.strategy == Strategy::Rolling).then_some(Track::Stable))
        else {
            continue;
        };
        let image = deployment_image(d, &server.name);
        let replicas = d["spec"]["replicas"].as_u64().map(|r| r as u32);
        if track == primary {
            if let Some(img) = &image
                && img != &server.image
            {
                warnings.push(format!(
                    "server {}: the fleet file says image {} but {} runs {img}; apply keeps the running image: \
                     a deployed {} server changes image through a rollout, never by apply: run \
                     `mcpctl deploy {}`",
                    server.name,
                    server.image,
                    d["metadata"]["name"].as_str().unwrap_or("?"),
                    server.strategy.as_str(),
                    server.name,
                ));
            }
            state.tracks.insert(
                track,
                TrackState {
                    image,
                    replicas: None,
                },
            );
        } else {
            state.tracks.insert(track, TrackState { image, replicas });
        }
    }
    // While a canary runs without a mesh, the replica ratio is its weight:
    // the stable track keeps the count the rollout gave it (an autoscaler's
    // count is never written anyway).
    let canary_runs = state.replicas(Track::Canary).is_some_and(|r| r > 0);
    if server.strategy == Strategy::Canary
        && server.router == crate::fleet::Router::Service
        && server.autoscaling.is_none()
        && canary_runs
        && let Some(d) = deployments
            .iter()
            .find(|d| track_of(d) == Some(Track::Stable))
        && let Some(r) = d["spec"]["replicas"].as_u64()
    {
        state.tracks.entry(Track::Stable).or_default().replicas = Some(r as u32);
    }
    (state, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dep(name: &str, labels: Value, image: &str, replicas: u32) -> Value {
        json!({"kind": "Deployment", "metadata": {"name": name, "labels": labels},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "gh", "image": image}]}}}})
    }

    #[test]
    fn blue_green_state_from_service_selector() {
        let live = vec![
            dep(
                "gh-blue",
                json!({"app.kubernetes.io/name": "gh", "mcpctl.io/colour": "blue"}),
                "img:1",
                3,
            ),
            dep(
                "gh-green",
                json!({"app.kubernetes.io/name": "gh", "mcpctl.io/colour": "green"}),
                "img:2",
                3,
            ),
            json!({"kind": "Service", "metadata": {"name": "gh"}, "spec": {"selector": {"mcpctl.io/colour": "green"}}}),
        ];
        assert_eq!(active_colour("gh", &live), Some(Colour::Green));
        assert_eq!(track_of(&live[0]), Some(Track::Blue));
        assert_eq!(deployment_image(&live[1], "gh").as_deref(), Some("img:2"));
    }

    #[test]
    fn canary_weight_from_routes_or_inflight() {
        let vs = json!({"kind": "VirtualService", "metadata": {"name": "gh", "labels": {"app.kubernetes.io/name": "gh"}},
            "spec": {"http": [{"route": [
                {"destination": {"host": "gh", "subset": "stable"}, "weight": 75},
                {"destination": {"host": "gh", "subset": "canary"}, "weight": 25}]}]}});
        assert_eq!(canary_weight("gh", &[vs], None), Some(25));
        let hr = json!({"kind": "HTTPRoute", "metadata": {"name": "gh"},
            "spec": {"rules": [{"backendRefs": [{"name": "gh-stable", "weight": 90}, {"name": "gh-canary", "weight": 10}]}]}});
        assert_eq!(canary_weight("gh", &[hr], None), Some(10));
        let mut inf = Operation::default();
        inf.weights.insert("canary".into(), 50);
        assert_eq!(canary_weight("gh", &[], Some(&inf)), Some(50));
        assert_eq!(canary_weight("gh", &[], None), None);
    }

    #[test]
    fn a_running_canary_without_a_mesh_keeps_the_stable_count() {
        let mut server = crate::fleet::testing::server("gh", "img:1");
        server.strategy = Strategy::Canary;
        server.router = crate::fleet::Router::Service;
        server.replicas = 4;
        let stable = |r| {
            dep(
                "gh",
                json!({"app.kubernetes.io/name": "gh", "mcpctl.io/track": "stable"}),
                "img:1",
                r,
            )
        };
        let canary = |r| {
            dep(
                "gh-canary",
                json!({"app.kubernetes.io/name": "gh", "mcpctl.io/track": "canary"}),
                "img:2",
                r,
            )
        };
        let (st, _) = rollout_state(&server, &[stable(2), canary(2)], None, true);
        assert_eq!(
            st.replicas(Track::Stable),
            Some(2),
            "the ratio is the weight"
        );
        assert_eq!(st.replicas(Track::Canary), Some(2));
        // No canary running: the fleet's count (None: rendered from the file).
        let (st, _) = rollout_state(&server, &[stable(2), canary(0)], None, true);
        assert_eq!(st.replicas(Track::Stable), None);
        // Behind a mesh the weight is in the route, the stable count the file's.
        server.router = crate::fleet::Router::Istio;
        let (st, _) = rollout_state(&server, &[stable(2), canary(2)], None, true);
        assert_eq!(st.replicas(Track::Stable), None);
    }
}
