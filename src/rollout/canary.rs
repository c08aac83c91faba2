//! Canary: run the new image as a small canary track beside the stable one,
//! smoke-test it and check its tools, then move traffic to it step by step
//! through the server's router, holding each step while the analysis
//! samples Prometheus; a failed analysis sends all traffic back to stable
//! first. After the last step the stable track takes the new image, all
//! traffic goes back to it and the canary is scaled to zero. Pure: the
//! caller passes the live state and a render function.

use std::time::Duration;

use super::bluegreen::{Options, Render};
use super::observed::Live;
use super::plan::{Action, Plan, Step, Version};
use crate::error::{Error, Result};
use crate::fleet::Server;
use crate::render::{RolloutState, Track, TrackState, rendered};
use crate::traffic::router::{self, Sizing, WeightChange, canary_deployment};

/// The canary's own settings (the fleet file's, overridden by flags).
#[derive(Debug, Clone, PartialEq)]
pub struct Canary {
    /// Weights in percent, strictly increasing, ending at 100.
    pub steps: Vec<u32>,
    pub step_duration: Duration,
    /// Every query of a sample, variables filled in (for the plan).
    pub queries: Vec<String>,
}

/// Checks a list of weights: 1..=100, strictly increasing, ending at 100.
pub fn check_steps(steps: &[u32]) -> std::result::Result<(), String> {
    if steps.is_empty() {
        return Err("at least one step is needed (for example 10,25,50,100)".into());
    }
    if let Some(w) = steps.iter().find(|w| **w == 0 || **w > 100) {
        return Err(format!("step weight {w} is not between 1 and 100"));
    }
    if steps.windows(2).any(|p| p[0] >= p[1]) {
        return Err("step weights must be strictly increasing".into());
    }
    if steps.last() != Some(&100) {
        return Err(
            "the last step must be 100 (the canary takes all traffic before promotion)".into(),
        );
    }
    Ok(())
}

/// The state with `track` running `image` at `replicas` (`None`: the
/// autoscaler's, or the fleet's).
fn with(track: Track, image: &str, replicas: Option<u32>) -> RolloutState {
    let mut s = RolloutState::default();
    s.tracks.insert(
        track,
        TrackState {
            image: Some(image.to_string()),
            replicas,
        },
    );
    s
}

fn set_weight(router: &str, c: &WeightChange) -> Action {
    Action::SetWeight {
        weight: c.weight,
        achieved: c.achieved,
        router: router.to_string(),
        objects: c.objects.clone(),
        scale: c.scale.clone(),
    }
}

/// The stable track applied with `image`: the fleet's replica count (the
/// autoscaler's when it owns it).
fn apply_stable(server: &Server, render: Render, image: &str) -> Result<Action> {
    let replicas = server.autoscaling.is_none().then_some(server.replicas);
    let object = rendered(
        &render(&with(Track::Stable, image, replicas))?,
        "Deployment",
        &server.name,
    )?;
    Ok(Action::ApplyDeployment {
        name: server.name.clone(),
        image: image.to_string(),
        replicas,
        object,
    })
}

/// Deploys `image` as a canary of the server.
pub fn deploy(
    server: &Server,
    live: &Live,
    image: &str,
    render: Render,
    opts: &Options,
    canary: &Canary,
) -> Result<Plan> {
    check_steps(&canary.steps).map_err(|e| Error::Usage(format!("canary steps: {e}")))?;
    let name = server.name.as_str();
    let Some(from_image) = live.image(name, name) else {
        return Err(super::bluegreen::not_installed(server));
    };
    let cdep = canary_deployment(name);
    let sizing = Sizing::of(server, live.replicas(name));
    let router = router::for_server(server, sizing, render);
    let restore = set_weight(router.name(), &router.weights(0)?);
    let first = router.weights(canary.steps[0])?;

    let object = rendered(
        &render(&with(Track::Canary, image, Some(first.canary_replicas)))?,
        "Deployment",
        &cdep,
    )?;
    let mut steps = vec![
        Step {
            action: Action::ApplyDeployment {
                name: cdep.clone(),
                image: image.into(),
                replicas: Some(first.canary_replicas),
                object,
            },
            undo: (!opts.keep_failed).then(|| Action::Scale {
                name: cdep.clone(),
                replicas: 0,
            }),
        },
        Step {
            action: Action::WaitReady {
                deployments: vec![cdep.clone()],
            },
            undo: None,
        },
    ];
    let mut notes = Vec::new();
    if opts.smoke {
        steps.push(Step {
            action: Action::Smoke {
                service: cdep.clone(),
                port: server.port,
                path: server.path.clone(),
            },
            undo: None,
        });
        if opts.tool_schema {
            steps.push(Step {
                action: Action::ToolSchema {
                    candidate: cdep.clone(),
                    baseline: format!("{name}-stable"),
                    port: server.port,
                    path: server.path.clone(),
                    allow_breaking: opts.allow_breaking_tools,
                },
                undo: None,
            });
        }
    } else {
        notes.push("the MCP smoke test and the tool-schema gate are skipped (--no-smoke)".into());
    }
    let mut pods = first.canary_replicas;
    for &w in &canary.steps {
        let change = router.weights(w)?;
        if change.canary_replicas != pods {
            pods = change.canary_replicas;
            steps.push(Step {
                action: Action::Scale {
                    name: cdep.clone(),
                    replicas: pods,
                },
                undo: None,
            });
            steps.push(Step {
                action: Action::WaitReady {
                    deployments: vec![cdep.clone()],
                },
                undo: None,
            });
        }
        if change.achieved != w {
            notes.push(format!(
                "step {w}%: the {} router gives {}% ({} canary pod(s) beside the stable ones)",
                router.name(),
                change.achieved,
                change.canary_replicas
            ));
        }
        steps.push(Step {
            action: set_weight(router.name(), &change),
            undo: Some(restore.clone()),
        });
        steps.push(Step {
            action: Action::Analyze {
                weight: w,
                seconds: canary.step_duration.as_secs(),
            },
            undo: None,
        });
    }
    // Promotion: the stable track takes the new image while the canary
    // serves; then all traffic back to stable; then the canary goes.
    let promote_at = steps.len();
    steps.push(Step {
        action: apply_stable(server, render, image)?,
        undo: Some(apply_stable(server, render, &from_image)?),
    });
    steps.push(Step {
        action: Action::WaitReady {
            deployments: vec![name.into()],
        },
        undo: None,
    });
    steps.push(Step {
        action: restore.clone(),
        undo: None,
    });
    steps.push(Step {
        action: Action::Scale {
            name: cdep.clone(),
            replicas: 0,
        },
        undo: None,
    });
    Ok(Plan {
        notes,
        promote_at: Some(promote_at),
        queries: canary.queries.clone(),
        ..Plan::new(
            "deploy",
            server,
            Version::new(from_image, "stable"),
            Version::new(image, "canary"),
            steps,
        )
    })
}

/// Rolls a canary server back to `image`: all traffic to stable (the
/// canary, if any runs, goes), the stable track rolled to `image`. Only
/// forward: a failure leaves it for `mcpctl rollback` to finish.
pub fn rollback(server: &Server, live: &Live, image: &str, render: Render) -> Result<Plan> {
    let name = server.name.as_str();
    let Some(from_image) = live.image(name, name) else {
        return Err(super::bluegreen::not_installed(server));
    };
    let sizing = Sizing::of(server, live.replicas(name));
    let router = router::for_server(server, sizing, render);
    let restore = set_weight(router.name(), &router.weights(0)?);
    let steps = vec![
        Step {
            action: restore,
            undo: None,
        },
        Step {
            action: apply_stable(server, render, image)?,
            undo: None,
        },
        Step {
            action: Action::WaitReady {
                deployments: vec![name.into()],
            },
            undo: None,
        },
    ];
    Ok(Plan::new(
        "rollback",
        server,
        Version::new(from_image, "stable"),
        Version::new(image, "stable"),
        steps,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::testing::fleet_from;
    use serde_json::{Value, json};

    fn fleet(router: &str) -> crate::fleet::Fleet {
        let gw = if router == "gateway-api" {
            "\n    ingress: {gateway: {name: public}}"
        } else {
            ""
        };
        fleet_from(&format!(
            "fleet: acme\nnamespace: mcp\nservers:\n  - name: gh\n    image: ghcr.io/acme/gh:1.0.0\n    strategy: canary\n    prometheus: {{url: http://prom:9090}}\n    router: {router}\n    replicas: 4{gw}\n"
        ))
    }

    fn render_with(f: &crate::fleet::Fleet) -> impl Fn(&RolloutState) -> Result<Vec<Value>> + '_ {
        crate::render::testing::render_with(f, "gh")
    }

    fn live() -> Live {
        let dep = |name: &str, track: &str, replicas: u32| {
            json!({"kind": "Deployment", "metadata": {"name": name,
                    "labels": {"app.kubernetes.io/name": "gh", "mcpctl.io/track": track}},
                "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "gh", "image": "ghcr.io/acme/gh:1.0.0"}]}}}})
        };
        Live::new(vec![dep("gh", "stable", 4), dep("gh-canary", "canary", 0)])
    }

    fn opts() -> Options {
        Options {
            smoke: true,
            tool_schema: true,
            allow_breaking_tools: false,
            keep_failed: false,
            scale_down_delay: Duration::from_secs(0),
        }
    }

    fn canary(steps: &[u32]) -> Canary {
        Canary {
            steps: steps.to_vec(),
            step_duration: Duration::from_secs(60),
            queries: vec!["canary requests: q".into()],
        }
    }

    fn shorts(p: &Plan) -> Vec<&'static str> {
        p.steps.iter().map(|s| s.action.short()).collect()
    }

    #[test]
    fn steps_are_checked() {
        assert!(check_steps(&[10, 50, 100]).is_ok());
        assert!(check_steps(&[]).is_err());
        assert!(
            check_steps(&[50, 50, 100])
                .unwrap_err()
                .contains("increasing")
        );
        assert!(check_steps(&[10, 50]).unwrap_err().contains("100"));
        assert!(check_steps(&[0, 100]).is_err());
    }

    #[test]
    fn a_mesh_canary_scales_before_each_weight_and_promotes_at_the_end() {
        let f = fleet("istio");
        let r = render_with(&f);
        let p = deploy(
            &f.servers[0],
            &live(),
            "ghcr.io/acme/gh:2.0.0",
            &r,
            &opts(),
            &canary(&[25, 50, 100]),
        )
        .unwrap();
        assert_eq!(
            shorts(&p),
            [
                "apply", "wait", "smoke", "tools", "weight", "analyze", "scale", "wait", "weight",
                "analyze", "scale", "wait", "weight", "analyze", "apply", "wait", "weight",
                "scale"
            ]
        );
        assert_eq!(p.promote_at, Some(14));
        // The canary starts at a quarter of the pods.
        assert!(
            matches!(&p.steps[0].action, Action::ApplyDeployment { name, replicas: Some(1), .. } if name == "gh-canary")
        );
        let Action::SetWeight { objects, .. } = &p.steps[4].action else {
            panic!()
        };
        assert_eq!(
            crate::traffic::traffic_of(&objects[0]).unwrap(),
            json!([[["stable", 75], ["canary", 25]]])
        );
        // Every weight is undone by 0%, done once, before the canary goes.
        let c = p.compensation(13);
        assert_eq!(c.len(), 2, "{c:?}");
        assert!(matches!(&c[0], Action::SetWeight { weight: 0, .. }));
        assert!(matches!(&c[1], Action::Scale { replicas: 0, .. }));
        // After the stable track took the new image, it goes back too.
        let c = p.compensation(15);
        assert_eq!(
            c.iter().map(Action::short).collect::<Vec<_>>(),
            ["weight", "apply", "scale"]
        );
        assert!(p.describe().contains("analysis queries"));
    }

    #[test]
    fn without_a_mesh_the_replica_ratio_is_the_weight() {
        let f = fleet("service");
        let r = render_with(&f);
        let p = deploy(
            &f.servers[0],
            &live(),
            "ghcr.io/acme/gh:2.0.0",
            &r,
            &Options {
                smoke: false,
                ..opts()
            },
            &canary(&[10, 100]),
        )
        .unwrap();
        let Action::SetWeight {
            scale, achieved, ..
        } = &p.steps[2].action
        else {
            panic!("{:?}", p.steps[2])
        };
        assert_eq!(scale, &[("gh".to_string(), 3)]);
        assert_eq!(*achieved, 25, "1 canary pod beside 3 stable ones");
        assert!(
            p.notes.iter().any(|n| n.contains("gives 25%")),
            "{:?}",
            p.notes
        );
        let Some(Action::SetWeight { scale, .. }) = &p.steps[2].undo else {
            panic!()
        };
        assert_eq!(
            scale,
            &[("gh-canary".to_string(), 0), ("gh".to_string(), 4)],
            "the canary's pods go first"
        );
    }

    #[test]
    fn a_rollback_only_goes_forward() {
        let f = fleet("gateway-api");
        let r = render_with(&f);
        let p = rollback(&f.servers[0], &live(), "ghcr.io/acme/gh:0.9.0", &r).unwrap();
        assert_eq!(shorts(&p), ["weight", "apply", "wait"]);
        assert!(p.steps.iter().all(|s| s.undo.is_none()));
    }
}
