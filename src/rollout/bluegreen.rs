//! Blue-green: deploy the new image to the idle colour, wait, smoke-test it
//! through the preview Service, check its tools against the active colour,
//! switch the production traffic object in one write, verify, and keep the
//! old colour up for the scale-down delay (a due task) so that rollback is
//! one write. Pure: the caller passes the live state and a render function.

use std::time::Duration;

use serde_json::Value;

use super::observed::Live;
use super::plan::{Action, DueTask, Plan, Step, Version};
use crate::error::{Error, Result};
use crate::fleet::{Router, Server};
use crate::render::{Colour, RolloutState, Track, TrackState};

pub use crate::traffic::router::Render;

/// What the operator chose.
#[derive(Debug, Clone)]
pub struct Options {
    /// Run the MCP smoke test of the candidate.
    pub smoke: bool,
    /// Run the tool-schema gate (needs the smoke test's tool lists).
    pub tool_schema: bool,
    pub allow_breaking_tools: bool,
    /// Leave a failed candidate running for debugging.
    pub keep_failed: bool,
    pub scale_down_delay: Duration,
}

pub fn deployment_name(server: &str, c: Colour) -> String {
    format!("{server}-{}", c.as_str())
}

use crate::render::rendered;

/// The object that carries a blue-green server's production traffic: its
/// VirtualService behind Istio (subset weights), else its main Service
/// (selector; a Gateway API route points at that Service).
fn traffic_object(server: &Server, objects: &[Value]) -> Result<Value> {
    let (kind, name) = match server.router {
        Router::Istio => ("VirtualService", server.name.as_str()),
        _ => ("Service", server.name.as_str()),
    };
    let obj = rendered(objects, kind, name)?;
    crate::traffic::split(&obj, server.strategy)
        .1
        .ok_or_else(|| Error::Template(format!("the {kind} {name} renders no traffic fields")))
}

/// What a switch writes: the production traffic object first, then the
/// autoscaler's target (it must follow the traffic to the new colour).
fn switch_objects(server: &Server, objects: &[Value]) -> Result<Vec<Value>> {
    let mut out = vec![traffic_object(server, objects)?];
    if server.autoscaling.is_some() {
        let hpa = rendered(objects, "HorizontalPodAutoscaler", &server.name)?;
        if let Some(p) = crate::traffic::split(&hpa, server.strategy).1 {
            out.push(p);
        }
    }
    Ok(out)
}

fn preview_part(server: &Server, objects: &[Value]) -> Result<Value> {
    let name = format!("{}-preview", server.name);
    let obj = rendered(objects, "Service", &name)?;
    crate::traffic::split(&obj, server.strategy)
        .1
        .ok_or_else(|| Error::Template(format!("the Service {name} renders no selector")))
}

/// The state with `active` serving and each colour running `images`/`replicas`.
fn state(active: Colour, tracks: [(Colour, String, u32); 2]) -> RolloutState {
    let mut s = RolloutState {
        active_colour: active,
        ..Default::default()
    };
    for (c, image, replicas) in tracks {
        s.tracks.insert(
            Track::from(c),
            TrackState {
                image: Some(image),
                replicas: Some(replicas),
            },
        );
    }
    s
}

/// Replicas for the colour taking over: the fleet's count, or with
/// autoscaling what the active colour runs now (at least the minimum), so the
/// switch does not shrink the fleet.
fn candidate_replicas(server: &Server, live: &Live, active_dep: &str) -> u32 {
    match &server.autoscaling {
        Some(a) => live.replicas(active_dep).max(a.min_replicas),
        None => server.replicas,
    }
}

pub(super) fn not_installed(server: &Server) -> Error {
    Error::Usage(format!(
        "server {} is not installed in the cluster: run `mcpctl apply {}` first, then deploy",
        server.name, server.name
    ))
}

/// The two colours of an installed server as they run now.
struct Colours {
    active: Colour,
    idle: Colour,
    active_dep: String,
    idle_dep: String,
}

impl Colours {
    fn of(server: &Server, live: &Live) -> Result<Colours> {
        if !live.installed() {
            return Err(not_installed(server));
        }
        let active = live.active_colour(&server.name);
        Ok(Colours {
            active,
            idle: active.other(),
            active_dep: deployment_name(&server.name, active),
            idle_dep: deployment_name(&server.name, active.other()),
        })
    }
}

/// The switch from the active colour to the idle one (undone by switching
/// back), then the read-back that checks it.
fn switch_steps(
    server: &Server,
    c: &Colours,
    before: &[Value],
    after: &[Value],
) -> Result<[Step; 2]> {
    let to = switch_objects(server, after)?;
    let verify = Step {
        action: Action::VerifyTraffic {
            to: c.idle.as_str().into(),
            objects: vec![to[0].clone()],
        },
        undo: None,
    };
    let switch = Step {
        action: Action::Switch {
            to: c.idle.as_str().into(),
            from: c.active.as_str().into(),
            objects: to,
        },
        undo: Some(Action::Switch {
            to: c.active.as_str().into(),
            from: c.idle.as_str().into(),
            objects: switch_objects(server, before)?,
        }),
    };
    Ok([switch, verify])
}

/// Deploys `image` to the idle colour and switches to it.
pub fn deploy(
    server: &Server,
    live: &Live,
    image: &str,
    render: Render,
    opts: &Options,
) -> Result<Plan> {
    let c = Colours::of(server, live)?;
    let name = server.name.as_str();
    let (active, candidate) = (c.active, c.idle);
    let (active_dep, cand_dep) = (c.active_dep.clone(), c.idle_dep.clone());
    let from_image = live
        .image(&active_dep, name)
        .unwrap_or_else(|| server.image.clone());
    let replicas = candidate_replicas(server, live, &active_dep);
    let active_replicas = live.replicas(&active_dep);
    let tracks = [
        (active, from_image.clone(), active_replicas),
        (candidate, image.to_string(), replicas),
    ];
    let before = render(&state(active, tracks.clone()))?;
    let after = render(&state(candidate, tracks))?;

    let mut steps = Vec::new();
    let preview = preview_part(server, &before)?;
    if live.traffic("Service", &format!("{name}-preview")) != crate::traffic::traffic_of(&preview) {
        steps.push(Step {
            action: Action::PointPreview {
                to: candidate.as_str().into(),
                objects: vec![preview],
            },
            undo: None,
        });
    }
    steps.push(Step {
        action: Action::ApplyDeployment {
            name: cand_dep.clone(),
            image: image.to_string(),
            replicas: Some(replicas),
            object: rendered(&before, "Deployment", &cand_dep)?,
        },
        undo: (!opts.keep_failed).then(|| Action::Scale {
            name: cand_dep.clone(),
            replicas: 0,
        }),
    });
    steps.push(Step {
        action: Action::WaitReady {
            deployments: vec![cand_dep.clone()],
        },
        undo: None,
    });
    let mut notes = Vec::new();
    push_gates(server, opts, &mut steps, &mut notes);
    steps.extend(switch_steps(server, &c, &before, &after)?);
    Ok(Plan {
        then: vec![scale_down(&active_dep, opts, active)],
        notes,
        ..Plan::new(
            "deploy",
            server,
            Version::new(from_image, active.as_str()),
            Version::new(image, candidate.as_str()),
            steps,
        )
    })
}

fn push_gates(server: &Server, opts: &Options, steps: &mut Vec<Step>, notes: &mut Vec<String>) {
    let preview = format!("{}-preview", server.name);
    if opts.smoke {
        steps.push(Step {
            action: Action::Smoke {
                service: preview.clone(),
                port: server.port,
                path: server.path.clone(),
            },
            undo: None,
        });
    } else {
        notes.push("the MCP smoke test is skipped (--no-smoke)".into());
    }
    if opts.smoke && opts.tool_schema {
        steps.push(Step {
            action: Action::ToolSchema {
                candidate: preview,
                baseline: server.name.clone(),
                port: server.port,
                path: server.path.clone(),
                allow_breaking: opts.allow_breaking_tools,
            },
            undo: None,
        });
        if opts.allow_breaking_tools {
            notes.push("breaking tool changes are allowed (--allow-breaking-tools)".into());
        }
    } else if !opts.smoke {
        notes.push("the tool-schema gate is skipped with the smoke test".into());
    }
}

fn scale_down(dep: &str, opts: &Options, colour: Colour) -> DueTask {
    DueTask {
        action: Action::Scale {
            name: dep.to_string(),
            replicas: 0,
        },
        after_seconds: opts.scale_down_delay.as_secs(),
        reason: format!(
            "the previous colour ({}) stays up for the scale-down delay so that rollback is one write",
            colour.as_str()
        ),
    }
}

/// A rollback goes forward to the last good version whatever happens: a
/// failure or a signal never switches traffic back to the version being
/// rolled away from (the candidate is still scaled down when the switch did
/// not happen).
fn forward_only(mut plan: Plan) -> Plan {
    for s in &mut plan.steps {
        if s.action.moves_traffic() {
            s.undo = None;
        }
    }
    plan
}

/// Rolls back to `image`: one switch when the idle colour still runs it,
/// otherwise a deploy of it (smoke-tested, no tool-schema gate: going back
/// to a known version may remove tools on purpose).
pub fn rollback(
    server: &Server,
    live: &Live,
    image: &str,
    render: Render,
    opts: &Options,
) -> Result<Plan> {
    let c = Colours::of(server, live)?;
    let name = server.name.as_str();
    let (active, other) = (c.active, c.idle);
    let (active_dep, other_dep) = (&c.active_dep, &c.idle_dep);
    let instant = live.serving(other_dep) && live.image(other_dep, name).as_deref() == Some(image);
    if !instant {
        let mut plan = deploy(
            server,
            live,
            image,
            render,
            &Options {
                tool_schema: false,
                ..opts.clone()
            },
        )?;
        plan.operation = "rollback".into();
        return Ok(forward_only(plan));
    }
    let from_image = live.image(active_dep, name).unwrap_or_default();
    let tracks = [
        (active, from_image.clone(), live.replicas(active_dep)),
        (other, image.to_string(), live.replicas(other_dep)),
    ];
    let before = render(&state(active, tracks.clone()))?;
    let after = render(&state(other, tracks))?;
    Ok(forward_only(Plan {
        then: vec![scale_down(active_dep, opts, active)],
        ..Plan::new(
            "rollback",
            server,
            Version::new(from_image, active.as_str()),
            Version::new(image, other.as_str()),
            switch_steps(server, &c, &before, &after)?.into(),
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::testing::fleet_from;
    use serde_json::json;

    fn fleet(router: &str, autoscaling: bool) -> crate::fleet::Fleet {
        let hpa = if autoscaling {
            "\n    autoscaling: {minReplicas: 2, maxReplicas: 9, targetCPU: 70}"
        } else {
            ""
        };
        let gw = if router == "gateway-api" {
            "\n    ingress: {gateway: {name: public}}"
        } else {
            ""
        };
        fleet_from(&format!(
            "fleet: acme\nnamespace: mcp\nservers:\n  - name: gh\n    image: ghcr.io/acme/gh:1.0.0\n    strategy: blue-green\n    router: {router}\n    replicas: 3{hpa}{gw}\n"
        ))
    }

    fn render_with(f: &crate::fleet::Fleet) -> impl Fn(&RolloutState) -> Result<Vec<Value>> + '_ {
        crate::render::testing::render_with(f, "gh")
    }

    fn dep(colour: &str, image: &str, replicas: u32) -> Value {
        json!({"kind": "Deployment", "metadata": {"name": format!("gh-{colour}"), "generation": 1,
                "labels": {"app.kubernetes.io/name": "gh", "mcpctl.io/colour": colour}},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "gh", "image": image}]}}},
            "status": {"observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas,
                       "availableReplicas": replicas, "readyReplicas": replicas}})
    }

    fn svc(name: &str, colour: &str) -> Value {
        json!({"kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app.kubernetes.io/instance": "gh", "app.kubernetes.io/name": "gh", "mcpctl.io/colour": colour}}})
    }

    fn opts() -> Options {
        Options {
            smoke: true,
            tool_schema: true,
            allow_breaking_tools: false,
            keep_failed: false,
            scale_down_delay: Duration::from_secs(600),
        }
    }

    fn actions(p: &Plan) -> Vec<&'static str> {
        p.steps.iter().map(|s| s.action.short()).collect()
    }

    #[test]
    fn deploy_goes_to_the_idle_colour_and_switches_in_one_write() {
        let f = fleet("service", false);
        let live = Live::new(vec![
            dep("blue", "ghcr.io/acme/gh:1.0.0", 3),
            dep("green", "ghcr.io/acme/gh:1.0.0", 0),
            svc("gh", "blue"),
            svc("gh-preview", "green"),
        ]);
        let r = render_with(&f);
        let p = deploy(&f.servers[0], &live, "ghcr.io/acme/gh:2.0.0", &r, &opts()).unwrap();
        assert_eq!(
            actions(&p),
            ["apply", "wait", "smoke", "tools", "switch", "verify"]
        );
        assert_eq!(p.from.track, "blue");
        assert_eq!(p.to.track, "green");
        let Action::ApplyDeployment {
            name,
            object,
            replicas,
            ..
        } = &p.steps[0].action
        else {
            unreachable!()
        };
        assert_eq!(name, "gh-green");
        assert_eq!(*replicas, Some(3));
        assert_eq!(
            object["spec"]["template"]["spec"]["containers"][0]["image"],
            "ghcr.io/acme/gh:2.0.0"
        );
        assert_eq!(
            p.steps[0].undo,
            Some(Action::Scale {
                name: "gh-green".into(),
                replicas: 0
            })
        );
        let Action::Switch { objects, .. } = &p.steps[4].action else {
            unreachable!()
        };
        assert_eq!(objects.len(), 1);
        assert_eq!(objects[0]["kind"], "Service");
        assert_eq!(
            objects[0]["spec"]["selector"]["mcpctl.io/colour"], "green",
            "{}",
            objects[0]
        );
        let Some(Action::Switch { objects: back, .. }) = &p.steps[4].undo else {
            unreachable!()
        };
        assert_eq!(back[0]["spec"]["selector"]["mcpctl.io/colour"], "blue");
        assert_eq!(
            p.then[0].action,
            Action::Scale {
                name: "gh-blue".into(),
                replicas: 0
            }
        );
        assert_eq!(p.then[0].after_seconds, 600);
    }

    #[test]
    fn deploy_from_green_points_the_preview_first_and_istio_switches_the_route() {
        let f = fleet("istio", false);
        let live = Live::new(vec![
            dep("blue", "img:1", 0),
            dep("green", "img:1", 3),
            svc("gh-preview", "green"),
            json!({"kind": "VirtualService", "metadata": {"name": "gh"}, "spec": {"http": [{"route": [
                {"destination": {"host": "gh", "subset": "blue"}, "weight": 0},
                {"destination": {"host": "gh", "subset": "green"}, "weight": 100}]}]}}),
        ]);
        let r = render_with(&f);
        let p = deploy(&f.servers[0], &live, "img:2", &r, &opts()).unwrap();
        assert_eq!(p.to.track, "blue");
        assert_eq!(actions(&p)[0], "preview");
        let Action::Switch { objects, .. } = &p.steps[5].action else {
            panic!("{:?}", actions(&p))
        };
        assert_eq!(objects[0]["kind"], "VirtualService");
        assert_eq!(
            crate::traffic::traffic_of(&objects[0]).unwrap(),
            json!([[["blue", 100], ["green", 0]]])
        );
    }

    #[test]
    fn autoscaled_candidates_start_at_the_active_size() {
        let f = fleet("service", true);
        let live = Live::new(vec![
            dep("blue", "img:1", 7),
            dep("green", "img:1", 0),
            svc("gh", "blue"),
        ]);
        let r = render_with(&f);
        let p = deploy(&f.servers[0], &live, "img:2", &r, &opts()).unwrap();
        let Action::ApplyDeployment { replicas, .. } = &p.steps[1].action else {
            panic!("{:?}", actions(&p))
        };
        assert_eq!(*replicas, Some(7));
        // The switch retargets the autoscaler after the traffic, and back.
        let sw = p.steps.iter().find(|s| s.action.moves_traffic()).unwrap();
        let Action::Switch { objects, .. } = &sw.action else {
            unreachable!()
        };
        assert_eq!(objects.len(), 2);
        assert_eq!(objects[0]["kind"], "Service");
        assert_eq!(objects[1]["kind"], "HorizontalPodAutoscaler");
        assert_eq!(objects[1]["spec"]["scaleTargetRef"]["name"], "gh-green");
        let Some(Action::Switch { objects: back, .. }) = &sw.undo else {
            unreachable!()
        };
        assert_eq!(back[1]["spec"]["scaleTargetRef"]["name"], "gh-blue");
    }

    #[test]
    fn no_smoke_skips_both_gates_loudly_and_keep_failed_keeps_the_candidate() {
        let f = fleet("gateway-api", false);
        let live = Live::new(vec![dep("blue", "img:1", 3), svc("gh", "blue")]);
        let r = render_with(&f);
        let o = Options {
            smoke: false,
            keep_failed: true,
            ..opts()
        };
        let p = deploy(&f.servers[0], &live, "img:2", &r, &o).unwrap();
        assert!(!actions(&p).contains(&"smoke") && !actions(&p).contains(&"tools"));
        assert!(
            p.notes.iter().any(|n| n.contains("--no-smoke")),
            "{:?}",
            p.notes
        );
        let apply = p
            .steps
            .iter()
            .find(|s| matches!(s.action, Action::ApplyDeployment { .. }));
        assert_eq!(apply.unwrap().undo, None);
    }

    #[test]
    fn rollback_is_one_switch_while_the_old_colour_serves_it() {
        let f = fleet("service", false);
        let live = Live::new(vec![
            dep("blue", "img:1", 3),
            dep("green", "img:2", 3),
            svc("gh", "green"),
        ]);
        let r = render_with(&f);
        let p = rollback(&f.servers[0], &live, "img:1", &r, &opts()).unwrap();
        assert_eq!(actions(&p), ["switch", "verify"]);
        assert_eq!(p.to.track, "blue");
        assert_eq!(
            p.steps[0].undo, None,
            "a rollback never switches back to what it leaves"
        );
        assert_eq!(
            p.then[0].action,
            Action::Scale {
                name: "gh-green".into(),
                replicas: 0
            }
        );
        // Scaled down already: a deploy of the old image, without the tool gate.
        let live = Live::new(vec![
            dep("blue", "img:1", 0),
            dep("green", "img:2", 3),
            svc("gh", "green"),
        ]);
        let p = rollback(&f.servers[0], &live, "img:1", &r, &opts()).unwrap();
        assert_eq!(p.operation, "rollback");
        assert_eq!(
            actions(&p),
            ["preview", "apply", "wait", "smoke", "switch", "verify"]
        );
    }

    #[test]
    fn a_server_not_installed_is_a_usage_error() {
        let f = fleet("service", false);
        let r = render_with(&f);
        let e = deploy(&f.servers[0], &Live::default(), "img:2", &r, &opts()).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("mcpctl apply gh"), "{e}");
    }
}
