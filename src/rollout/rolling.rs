//! Rolling: set the image on the one Deployment, wait like `kubectl rollout
//! status`, smoke-test the Service; a failed wait or smoke test applies the
//! previous Deployment again. Rollback re-applies a recorded revision.

use serde_json::Value;

use super::bluegreen::{Options, Render};
use super::observed::Live;
use super::plan::{Action, Plan, Step, Version};
use crate::error::Result;
use crate::fleet::Server;
use crate::render::{RolloutState, Track, TrackState};

fn with_image(image: &str) -> RolloutState {
    let mut s = RolloutState::default();
    s.tracks.insert(
        Track::Stable,
        TrackState {
            image: Some(image.to_string()),
            replicas: None,
        },
    );
    s
}

fn deployment(server: &Server, render: Render, image: &str) -> Result<Value> {
    crate::render::rendered(&render(&with_image(image))?, "Deployment", &server.name)
}

fn smoke(server: &Server, opts: &Options) -> Option<Step> {
    opts.smoke.then(|| Step {
        action: Action::Smoke {
            service: server.name.clone(),
            port: server.port,
            path: server.path.clone(),
        },
        undo: None,
    })
}

/// Deploys `image` to the server's Deployment.
pub fn deploy(
    server: &Server,
    live: &Live,
    image: &str,
    render: Render,
    opts: &Options,
) -> Result<Plan> {
    let name = server.name.as_str();
    let Some(from_image) = live.image(name, name) else {
        return Err(super::bluegreen::not_installed(server));
    };
    let mut steps = vec![
        Step {
            action: Action::ApplyDeployment {
                name: name.into(),
                image: image.into(),
                replicas: None,
                object: deployment(server, render, image)?,
            },
            undo: Some(Action::ApplyDeployment {
                name: name.into(),
                image: from_image.clone(),
                replicas: None,
                object: deployment(server, render, &from_image)?,
            }),
        },
        Step {
            action: Action::WaitReady {
                deployments: vec![name.into()],
            },
            undo: None,
        },
    ];
    let mut notes = Vec::new();
    match smoke(server, opts) {
        Some(s) => steps.push(s),
        None => notes.push("the MCP smoke test is skipped (--no-smoke)".into()),
    }
    Ok(Plan {
        notes,
        ..Plan::new(
            "deploy",
            server,
            Version::new(from_image, "stable"),
            Version::new(image, "stable"),
            steps,
        )
    })
}

/// Re-applies the objects of recorded revision `revision` and waits.
pub fn rollback(
    server: &Server,
    live: &Live,
    revision: u32,
    image: &str,
    objects: Vec<Value>,
    opts: &Options,
) -> Result<Plan> {
    let name = server.name.as_str();
    let mut steps = vec![
        Step {
            action: Action::ApplyObjects { revision, objects },
            undo: None,
        },
        Step {
            action: Action::WaitReady {
                deployments: vec![name.into()],
            },
            undo: None,
        },
    ];
    steps.extend(smoke(server, opts));
    Ok(Plan::new(
        "rollback",
        server,
        Version::new(live.image(name, name).unwrap_or_default(), "stable"),
        Version::new(image, "stable"),
        steps,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::testing::fleet_from;
    use crate::render::{RenderOptions, Renderer};
    use serde_json::json;

    #[test]
    fn deploy_sets_the_image_and_undoes_to_the_live_one() {
        let f = fleet_from(
            "fleet: acme\nnamespace: mcp\nservers:\n  - name: fs\n    image: img:1\n    strategy: rolling\n    router: service\n",
        );
        let render = |st: &RolloutState| -> Result<Vec<Value>> {
            let mut o = RenderOptions::default();
            o.rollout.insert("fs".into(), st.clone());
            Ok(Renderer::new(None)?
                .render_fleet(&f, &[], &o)?
                .into_iter()
                .map(|x| x.value)
                .collect())
        };
        let live = Live::new(vec![
            json!({"kind": "Deployment", "metadata": {"name": "fs"},
            "spec": {"template": {"spec": {"containers": [{"name": "fs", "image": "img:1"}]}}}}),
        ]);
        let o = Options {
            smoke: true,
            tool_schema: false,
            allow_breaking_tools: false,
            keep_failed: false,
            scale_down_delay: std::time::Duration::ZERO,
        };
        let p = deploy(&f.servers[0], &live, "img:2", &render, &o).unwrap();
        assert_eq!(p.steps.len(), 3);
        let image = |a: &Action| match a {
            Action::ApplyDeployment { object, .. } => {
                object["spec"]["template"]["spec"]["containers"][0]["image"]
                    .as_str()
                    .unwrap()
                    .to_string()
            }
            _ => panic!(),
        };
        assert_eq!(image(&p.steps[0].action), "img:2");
        assert_eq!(image(p.steps[0].undo.as_ref().unwrap()), "img:1");
        assert!(matches!(&p.steps[2].action, Action::Smoke { service, .. } if service == "fs"));
        let e = deploy(&f.servers[0], &Live::default(), "img:2", &render, &o).unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }
}
