//! Rules checked container by container: security context, resources, probes,
//! image pinning and the preStop drain delay.

use serde_json::Value;

use super::image::ImageRef;
use super::workload::{Context, Workload, container_name};
use super::*;

/// Kubernetes' default `terminationGracePeriodSeconds`.
const DEFAULT_GRACE_SECONDS: u64 = 30;

pub(crate) fn check(ctx: &Context<'_>, opts: &LintOptions, hits: &mut Vec<Hit>) {
    for w in &ctx.workloads {
        for c in w.all_containers() {
            security(w, c, hits);
            resources(w, c, hits);
            image(w, c, hits);
        }
        if w.serving {
            for c in w.containers() {
                probes(w, c, hits);
                drain(w, c, opts, hits);
            }
        }
    }
}

fn security(w: &Workload<'_>, c: &Value, hits: &mut Vec<Hit>) {
    let name = container_name(c);
    let pod = &w.pod_spec["securityContext"];
    let sc = &c["securityContext"];
    // Container settings override the pod's for these two fields.
    let effective = |key: &str| {
        if sc[key].is_null() {
            &pod[key]
        } else {
            &sc[key]
        }
    };

    if effective("runAsUser").as_u64() == Some(0) {
        hits.push(Hit::new(
            w.index,
            RUNS_AS_NON_ROOT,
            format!("container `{name}` runs as root (runAsUser: 0)"),
        ));
    } else if effective("runAsNonRoot").as_bool() != Some(true) {
        hits.push(Hit::new(
            w.index,
            RUNS_AS_NON_ROOT,
            format!("container `{name}` may run as root: runAsNonRoot is not true"),
        ));
    }

    if sc["readOnlyRootFilesystem"].as_bool() != Some(true) {
        hits.push(Hit::new(
            w.index,
            READ_ONLY_ROOT_FS,
            format!("container `{name}` has a writable root filesystem"),
        ));
    }

    let caps = &sc["capabilities"];
    let drops_all = workload::array(&caps["drop"])
        .filter_map(Value::as_str)
        .any(|d| d.eq_ignore_ascii_case("ALL"));
    let added: Vec<&str> = workload::array(&caps["add"])
        .filter_map(Value::as_str)
        .filter(|a| !a.eq_ignore_ascii_case("NET_BIND_SERVICE"))
        .collect();
    if !drops_all {
        hits.push(Hit::new(
            w.index,
            CAPABILITIES_DROPPED,
            format!("container `{name}` does not drop ALL capabilities"),
        ));
    }
    if !added.is_empty() {
        hits.push(Hit::new(
            w.index,
            CAPABILITIES_DROPPED,
            format!("container `{name}` adds capabilities {}", added.join(", ")),
        ));
    }

    if sc["privileged"].as_bool() == Some(true) {
        hits.push(Hit::new(
            w.index,
            NO_PRIVILEGE_ESCALATION,
            format!("container `{name}` is privileged"),
        ));
    } else if sc["allowPrivilegeEscalation"].as_bool() != Some(false) {
        hits.push(Hit::new(
            w.index,
            NO_PRIVILEGE_ESCALATION,
            format!(
                "container `{name}` may escalate privileges: allowPrivilegeEscalation is not false"
            ),
        ));
    }
}

fn resources(w: &Workload<'_>, c: &Value, hits: &mut Vec<Hit>) {
    let r = &c["resources"];
    let set = |v: &Value| match v {
        Value::String(s) => !s.trim().is_empty(),
        Value::Number(_) => true,
        _ => false,
    };
    let missing: Vec<String> = ["requests", "limits"]
        .iter()
        .flat_map(|kind| ["cpu", "memory"].map(|res| (*kind, res)))
        .filter(|(kind, res)| !set(&r[*kind][*res]))
        .map(|(kind, res)| format!("{kind}.{res}"))
        .collect();
    if !missing.is_empty() {
        hits.push(Hit::new(
            w.index,
            RESOURCES_SET,
            format!(
                "container `{}` has no resources.{}",
                container_name(c),
                missing.join(", resources.")
            ),
        ));
    }
}

fn probes(w: &Workload<'_>, c: &Value, hits: &mut Vec<Hit>) {
    let missing: Vec<&str> = ["livenessProbe", "readinessProbe"]
        .into_iter()
        .filter(|p| !c[*p].is_object())
        .collect();
    if !missing.is_empty() {
        hits.push(Hit::new(
            w.index,
            PROBES_SET,
            format!(
                "container `{}` has no {}",
                container_name(c),
                missing.join(" and no ")
            ),
        ));
    }
}

fn image(w: &Workload<'_>, c: &Value, hits: &mut Vec<Hit>) {
    let name = container_name(c);
    let image = c["image"].as_str().unwrap_or("");
    if image.is_empty() {
        hits.push(Hit::new(
            w.index,
            IMAGE_PINNED,
            format!("container `{name}` has no image"),
        ));
        return;
    }
    let r = ImageRef::parse(image);
    let repo = r.repository;
    match (r.tag, r.digest) {
        (_, Some(_)) => {}
        (tag @ (None | Some("latest")), None) => {
            let why = if tag.is_none() {
                "has no tag, so it pulls `latest`"
            } else {
                "uses the mutable `latest` tag"
            };
            hits.push(
                Hit::new(
                    w.index,
                    IMAGE_PINNED,
                    format!("container `{name}` image `{image}` {why}"),
                )
                .with_fix(format!(
                    "pin a version: `{repo}:<version>` or `{repo}@sha256:<digest>`"
                )),
            )
        }
        (Some(tag), None) => hits.push(
            Hit::new(
                w.index,
                IMAGE_DIGEST,
                format!("container `{name}` image `{image}` is pinned by tag, not digest"),
            )
            .with_fix(format!(
                "use `{repo}:{tag}@sha256:<digest>` (the digest the tag points at now)"
            )),
        ),
    }
}

/// What a container's preStop hook does.
#[derive(Debug, PartialEq, Eq)]
enum PreStop {
    None,
    /// The `sleep` action (Kubernetes 1.30+) of this many seconds.
    SleepAction(u64),
    /// An exec of `sleep N`.
    Sleeps(u64),
    /// Some other hook whose duration is unknown (httpGet, a script).
    Other,
}

fn pre_stop(c: &Value) -> PreStop {
    let hook = &c["lifecycle"]["preStop"];
    if !hook.is_object() {
        return PreStop::None;
    }
    if let Some(s) = hook["sleep"]["seconds"].as_u64() {
        return PreStop::SleepAction(s);
    }
    // `["sleep", "15"]` or `["/bin/sh", "-c", "sleep 15"]`.
    let words: Vec<&str> = workload::array(&hook["exec"]["command"])
        .filter_map(Value::as_str)
        .flat_map(|s| s.split(|ch: char| ch.is_whitespace() || ch == ';' || ch == '&'))
        .filter(|s| !s.is_empty())
        .collect();
    for pair in words.windows(2) {
        if pair[0].rsplit('/').next() == Some("sleep")
            && let Ok(n) = pair[1].trim_end_matches('s').parse::<u64>()
        {
            return PreStop::Sleeps(n);
        }
    }
    PreStop::Other
}

fn drain(w: &Workload<'_>, c: &Value, opts: &LintOptions, hits: &mut Vec<Hit>) {
    let name = container_name(c);
    let grace = w.pod_spec["terminationGracePeriodSeconds"]
        .as_u64()
        .unwrap_or(DEFAULT_GRACE_SECONDS);
    let hook = pre_stop(c);
    if let PreStop::SleepAction(s) = hook
        && !opts.kube_version.has_sleep_action()
    {
        hits.push(
            Hit::new(
                w.index,
                SLEEP_ACTION_SUPPORTED,
                format!(
                    "container `{name}` uses lifecycle.preStop.sleep, which Kubernetes {} rejects (it needs 1.30 or newer)",
                    opts.kube_version
                ),
            )
            .with_fix(format!(
                "use `exec: {{command: [\"sleep\", \"{s}\"]}}` in the template, or lint with the cluster's --kube-version"
            )),
        );
    }
    match hook {
        PreStop::None => hits.push(Hit::new(
            w.index,
            DRAIN_DELAY_SET,
            format!("container `{name}` has no preStop drain delay: open MCP sessions are cut when a pod stops"),
        )),
        PreStop::Sleeps(s) | PreStop::SleepAction(s) if s >= grace => hits.push(Hit::new(
            w.index,
            DRAIN_SHORTER_THAN_GRACE,
            format!(
                "container `{name}` drains for {s}s but terminationGracePeriodSeconds is {grace}s: \
                 the pod is killed before it can shut down cleanly"
            ),
        )),
        PreStop::Sleeps(_) | PreStop::SleepAction(_) | PreStop::Other => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testutil::*;
    use serde_json::json;

    /// Lints a fleet with one good server after `edit` changed its container
    /// (`c`) and pod spec (`p`), and returns the findings of `rule`.
    fn with(rule: &str, edit: impl Fn(&mut Value, &mut Value)) -> Vec<Finding> {
        let fleet = fleet_of(vec![server("github")]);
        let mut objs = good_objects("github");
        let pod = &mut deployment_mut(&mut objs, "github")["spec"]["template"]["spec"];
        let mut c = pod["containers"][0].take();
        edit(&mut c, pod);
        pod["containers"][0] = c;
        lint(&fleet, &objs)
            .into_iter()
            .filter(|f| f.rule == rule)
            .collect()
    }

    fn sc(c: &mut Value) -> &mut serde_json::Map<String, Value> {
        c["securityContext"].as_object_mut().unwrap()
    }

    #[test]
    fn good_container_passes_every_container_rule() {
        for r in [
            RUNS_AS_NON_ROOT,
            READ_ONLY_ROOT_FS,
            CAPABILITIES_DROPPED,
            NO_PRIVILEGE_ESCALATION,
            RESOURCES_SET,
            PROBES_SET,
            IMAGE_PINNED,
            IMAGE_DIGEST,
            DRAIN_SHORTER_THAN_GRACE,
            DRAIN_DELAY_SET,
        ] {
            assert!(
                with(r, |_, _| {}).is_empty(),
                "{r} fired on the good object"
            );
        }
    }

    #[test]
    fn mcp001_non_root() {
        let f = with(RUNS_AS_NON_ROOT, |c, p| {
            sc(c).remove("runAsNonRoot");
            p["securityContext"]
                .as_object_mut()
                .unwrap()
                .remove("runAsNonRoot");
        });
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.contains("runAsNonRoot is not true"),
            "{}",
            f[0].message
        );
        // The container's setting overrides the pod's.
        let f = with(RUNS_AS_NON_ROOT, |c, _| {
            sc(c).insert("runAsNonRoot".into(), false.into());
        });
        assert_eq!(f.len(), 1);
        // The pod-level setting counts when the container has none.
        assert!(
            with(RUNS_AS_NON_ROOT, |c, _| {
                sc(c).remove("runAsNonRoot");
            })
            .is_empty()
        );
        let f = with(RUNS_AS_NON_ROOT, |_, p| {
            p["securityContext"]["runAsUser"] = 0.into()
        });
        assert_eq!(f.len(), 1, "the pod's runAsUser 0 applies to the container");
        let f = with(RUNS_AS_NON_ROOT, |c, p| {
            p["securityContext"]["runAsUser"] = 0.into();
            sc(c).insert("runAsUser".into(), 10001.into());
        });
        assert!(
            f.is_empty(),
            "container runAsUser overrides the pod's: {f:?}"
        );
        let f = with(RUNS_AS_NON_ROOT, |c, _| {
            sc(c).insert("runAsUser".into(), 0.into());
        });
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("runAsUser: 0"), "{}", f[0].message);
        assert_eq!(f[0].severity, Severity::Error);
    }

    #[test]
    fn mcp002_read_only_root_fs() {
        let f = with(READ_ONLY_ROOT_FS, |c, _| {
            sc(c).insert("readOnlyRootFilesystem".into(), false.into());
        });
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("`mcp`"), "{}", f[0].message);
    }

    #[test]
    fn mcp003_capabilities() {
        let f = with(CAPABILITIES_DROPPED, |c, _| {
            sc(c).insert("capabilities".into(), json!({"drop": ["NET_RAW"]}));
        });
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("does not drop ALL"));
        let f = with(CAPABILITIES_DROPPED, |c, _| {
            sc(c).insert(
                "capabilities".into(),
                json!({"drop": ["ALL"], "add": ["NET_BIND_SERVICE", "SYS_ADMIN"]}),
            );
        });
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.contains("adds capabilities SYS_ADMIN"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn mcp004_privilege_escalation() {
        let f = with(NO_PRIVILEGE_ESCALATION, |c, _| {
            sc(c).remove("allowPrivilegeEscalation");
        });
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("may escalate"));
        let f = with(NO_PRIVILEGE_ESCALATION, |c, _| {
            sc(c).insert("privileged".into(), true.into());
        });
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("is privileged"));
    }

    #[test]
    fn mcp005_resources() {
        let f = with(RESOURCES_SET, |c, _| {
            c["resources"]["limits"]
                .as_object_mut()
                .unwrap()
                .remove("cpu");
            c["resources"]["requests"]["memory"] = "".into();
        });
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].message,
            "container `mcp` has no resources.requests.memory, resources.limits.cpu"
        );
        // Init containers are checked too.
        let f = with(RESOURCES_SET, |_, p| {
            p["initContainers"] = json!([{"name": "init", "image": "busybox:1.36@sha256:x"}]);
        });
        assert_eq!(f.len(), 1);
        assert!(f[0].message.starts_with("container `init`"));
    }

    #[test]
    fn mcp006_probes() {
        let f = with(PROBES_SET, |c, _| {
            c.as_object_mut().unwrap().remove("livenessProbe");
            c.as_object_mut().unwrap().remove("readinessProbe");
        });
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].message,
            "container `mcp` has no livenessProbe and no readinessProbe"
        );
    }

    #[test]
    fn mcp010_mcp011_image_pinning() {
        let img = |image: &'static str| {
            let mut all = with(IMAGE_PINNED, move |c, _| c["image"] = image.into());
            all.extend(with(IMAGE_DIGEST, move |c, _| c["image"] = image.into()));
            all.into_iter().map(|f| f.rule).collect::<Vec<_>>()
        };
        assert_eq!(img("ghcr.io/acme/x:latest"), vec![IMAGE_PINNED]);
        assert_eq!(img("ghcr.io/acme/x"), vec![IMAGE_PINNED]);
        assert_eq!(img("registry:5000/x"), vec![IMAGE_PINNED]);
        assert_eq!(img(""), vec![IMAGE_PINNED]);
        assert_eq!(img("ghcr.io/acme/x:1.2.3"), vec![IMAGE_DIGEST]);
        assert_eq!(img("ghcr.io/acme/x:latest@sha256:0123"), Vec::<&str>::new());
        assert_eq!(rule(IMAGE_DIGEST).severity, Severity::Info);
    }

    #[test]
    fn mcp015_drain_shorter_than_grace() {
        let f = with(DRAIN_SHORTER_THAN_GRACE, |_, p| {
            p["terminationGracePeriodSeconds"] = 15.into()
        });
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message
                .contains("drains for 15s but terminationGracePeriodSeconds is 15s"),
            "{}",
            f[0].message
        );
        // No grace period written: Kubernetes' default of 30s applies.
        let f = with(DRAIN_SHORTER_THAN_GRACE, |c, p| {
            p.as_object_mut()
                .unwrap()
                .remove("terminationGracePeriodSeconds");
            c["lifecycle"]["preStop"] = json!({"exec": {"command": ["/bin/sh", "-c", "sleep 30"]}});
        });
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("is 30s"), "{}", f[0].message);
        let f = with(DRAIN_SHORTER_THAN_GRACE, |c, _| {
            c["lifecycle"]["preStop"] = json!({"exec": {"command": ["sleep", "10"]}});
        });
        assert!(f.is_empty());
    }

    #[test]
    fn mcp016_drain_delay_set() {
        let f = with(DRAIN_DELAY_SET, |c, _| {
            c.as_object_mut().unwrap().remove("lifecycle");
        });
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
        let f = with(DRAIN_DELAY_SET, |c, _| {
            c["lifecycle"]["preStop"] = json!({"httpGet": {"path": "/drain", "port": 8080}});
        });
        assert!(f.is_empty());
    }

    #[test]
    fn mcp018_sleep_action_needs_1_30() {
        let fleet = fleet_of(vec![server("github")]);
        let objs = good_objects("github");
        let at = |minor: u32| {
            let opts = LintOptions {
                kube_version: KubeVersion { major: 1, minor },
            };
            lint_with(&fleet, &objs, &opts)
                .into_iter()
                .filter(|f| f.rule == SLEEP_ACTION_SUPPORTED)
                .collect::<Vec<_>>()
        };
        assert!(at(30).is_empty());
        let f = at(29);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.contains("Kubernetes 1.29 rejects"),
            "{}",
            f[0].message
        );
        assert!(f[0].fix.contains(r#"["sleep", "15"]"#), "{}", f[0].fix);
        // The exec form works everywhere.
        let mut objs = objs.clone();
        deployment_mut(&mut objs, "github")["spec"]["template"]["spec"]["containers"][0]["lifecycle"]
            ["preStop"] = json!({"exec": {"command": ["sleep", "15"]}});
        let opts = LintOptions {
            kube_version: KubeVersion {
                major: 1,
                minor: 28,
            },
        };
        assert!(lint_with(&fleet, &objs, &opts).is_empty());
    }

    #[test]
    fn pre_stop_forms() {
        let c = |hook: Value| json!({"lifecycle": {"preStop": hook}});
        assert_eq!(pre_stop(&json!({})), PreStop::None);
        assert_eq!(
            pre_stop(&c(json!({"sleep": {"seconds": 5}}))),
            PreStop::SleepAction(5)
        );
        assert_eq!(
            pre_stop(&c(json!({"exec": {"command": ["/bin/sleep", "7"]}}))),
            PreStop::Sleeps(7)
        );
        assert_eq!(
            pre_stop(&c(
                json!({"exec": {"command": ["sh", "-c", "echo bye; sleep 9s"]}})
            )),
            PreStop::Sleeps(9)
        );
        assert_eq!(
            pre_stop(&c(json!({"exec": {"command": ["/drain.sh"]}}))),
            PreStop::Other
        );
    }

    #[test]
    fn jobs_need_no_probes_or_drain() {
        let fleet = fleet_of(vec![server("github")]);
        let mut objs = good_objects("github");
        let mut job = json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "github-migrate", "namespace": "mcp", "labels": {"app.kubernetes.io/name": "github"}},
            "spec": {"template": {"metadata": {"labels": {}}, "spec": {"containers": [
                deployment_mut(&mut objs, "github")["spec"]["template"]["spec"]["containers"][0].clone()
            ]}}}
        });
        let c = job["spec"]["template"]["spec"]["containers"][0]
            .as_object_mut()
            .unwrap();
        c.remove("livenessProbe");
        c.remove("lifecycle");
        objs.push(crate::render::Object { value: job });
        let f: Vec<_> = lint(&fleet, &objs)
            .into_iter()
            .filter(|f| f.object.starts_with("Job/"))
            .collect();
        assert!(f.is_empty(), "{f:#?}");
    }
}
