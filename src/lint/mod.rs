//! The production checklist over rendered objects.
//!
//! Rules read the rendered Kubernetes objects, so a user template override is
//! linted exactly as it would be applied; the fleet model only gives context
//! (which servers exist, their strategy, whether TLS or Prometheus is set).
//! Everything here is pure: no I/O, no cluster.
//!
//! Every rule is listed once in [`RULES`] with its severity, what it checks and
//! how to fix it; a finding takes its severity from that table, so the
//! documentation and the behaviour cannot drift apart.

mod container_rules;
mod image;
mod selector;
mod server_rules;
mod workload;

#[cfg(test)]
mod testutil;

use serde::Serialize;

use crate::fleet::Fleet;
use crate::render::{KubeVersion, Object};

/// How much a finding matters. Only `Error` makes `mcpctl lint` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule of the checklist, as documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Stable identifier, `MCP001`…
    pub id: &'static str,
    pub severity: Severity,
    /// What the rule checks, in one line.
    pub what: &'static str,
    /// The usual fix, in one line.
    pub fix: &'static str,
}

/// One problem found in one rendered object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    /// `Kind/namespace/name` of the object the finding is about.
    pub object: String,
    /// The MCP server the object belongs to (empty when the object carries no
    /// `app.kubernetes.io/name` label).
    pub server: String,
    pub message: String,
    /// A one-line fix.
    pub fix: String,
}

/// Counts of findings per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

impl Summary {
    pub fn of(findings: &[Finding]) -> Self {
        let mut s = Summary::default();
        for f in findings {
            match f.severity {
                Severity::Error => s.errors += 1,
                Severity::Warning => s.warnings += 1,
                Severity::Info => s.infos += 1,
            }
        }
        s
    }
}

pub const RUNS_AS_NON_ROOT: &str = "MCP001";
pub const READ_ONLY_ROOT_FS: &str = "MCP002";
pub const CAPABILITIES_DROPPED: &str = "MCP003";
pub const NO_PRIVILEGE_ESCALATION: &str = "MCP004";
pub const RESOURCES_SET: &str = "MCP005";
pub const PROBES_SET: &str = "MCP006";
pub const HA_REPLICAS: &str = "MCP007";
pub const PDB_PRESENT: &str = "MCP008";
pub const PDB_ALLOWS_EVICTION: &str = "MCP009";
pub const IMAGE_PINNED: &str = "MCP010";
pub const IMAGE_DIGEST: &str = "MCP011";
pub const NETWORK_POLICY: &str = "MCP012";
pub const TLS_CONFIGURED: &str = "MCP013";
pub const ALERTS_PRESENT: &str = "MCP014";
pub const DRAIN_SHORTER_THAN_GRACE: &str = "MCP015";
pub const DRAIN_DELAY_SET: &str = "MCP016";
pub const CANARY_PROMETHEUS: &str = "MCP017";
pub const SLEEP_ACTION_SUPPORTED: &str = "MCP018";

/// The checklist. Ids are stable: never renumber, only add.
pub const RULES: &[Rule] = &[
    Rule {
        id: RUNS_AS_NON_ROOT,
        severity: Severity::Error,
        what: "every container runs as non-root: runAsNonRoot true (pod or container), runAsUser not 0",
        fix: "set securityContext.runAsNonRoot: true and a non-zero runAsUser",
    },
    Rule {
        id: READ_ONLY_ROOT_FS,
        severity: Severity::Error,
        what: "every container has a read-only root filesystem",
        fix: "set securityContext.readOnlyRootFilesystem: true; mount an emptyDir where the server writes",
    },
    Rule {
        id: CAPABILITIES_DROPPED,
        severity: Severity::Error,
        what: "every container drops ALL Linux capabilities and adds none but NET_BIND_SERVICE",
        fix: "set securityContext.capabilities.drop: [ALL]",
    },
    Rule {
        id: NO_PRIVILEGE_ESCALATION,
        severity: Severity::Error,
        what: "no container is privileged or may escalate privileges",
        fix: "set securityContext.allowPrivilegeEscalation: false (and privileged: false)",
    },
    Rule {
        id: RESOURCES_SET,
        severity: Severity::Error,
        what: "every container sets cpu and memory requests and limits",
        fix: "set resources (requests and limits, cpu and memory) for the server in the fleet file",
    },
    Rule {
        id: PROBES_SET,
        severity: Severity::Error,
        what: "every container has a liveness and a readiness probe",
        fix: "add livenessProbe and readinessProbe to the container (the default templates do)",
    },
    Rule {
        id: HA_REPLICAS,
        severity: Severity::Error,
        what: "the server runs at least 2 replicas (or an HPA with minReplicas >= 2)",
        fix: "set replicas: 2 or more (or autoscaling.minReplicas >= 2) for the server",
    },
    Rule {
        id: PDB_PRESENT,
        severity: Severity::Error,
        what: "a PodDisruptionBudget selects the pods of every running workload",
        fix: "render a PodDisruptionBudget whose selector matches the pod labels",
    },
    Rule {
        id: PDB_ALLOWS_EVICTION,
        severity: Severity::Warning,
        what: "a PodDisruptionBudget still allows one eviction (it does not block node drains)",
        fix: "use maxUnavailable: 1, or minAvailable below the replica count",
    },
    Rule {
        id: IMAGE_PINNED,
        severity: Severity::Error,
        what: "images are pinned: a tag or digest, never `latest` or no tag",
        fix: "use an immutable tag (`repo:1.4.2`) or better a digest (`repo@sha256:…`)",
    },
    Rule {
        id: IMAGE_DIGEST,
        severity: Severity::Info,
        what: "images are pinned by digest (tags can be moved)",
        fix: "append the digest: `repo:1.4.2@sha256:…`",
    },
    Rule {
        id: NETWORK_POLICY,
        severity: Severity::Error,
        what: "a NetworkPolicy with Ingress rules selects the pods of every workload",
        fix: "render a NetworkPolicy whose podSelector matches the pod labels",
    },
    Rule {
        id: TLS_CONFIGURED,
        severity: Severity::Warning,
        what: "the server serves TLS (certificate Secret mounted, or Istio mTLS)",
        fix: "add `tls:` to the server (or defaults) in the fleet file and create its `kubernetes.io/tls` Secret",
    },
    Rule {
        id: ALERTS_PRESENT,
        severity: Severity::Warning,
        what: "a PrometheusRule with at least one alert exists for the server",
        fix: "render a PrometheusRule labelled app.kubernetes.io/name=<server> with alerts",
    },
    Rule {
        id: DRAIN_SHORTER_THAN_GRACE,
        severity: Severity::Error,
        what: "the preStop drain delay is shorter than terminationGracePeriodSeconds",
        fix: "lower the drain delay or raise terminationGracePeriodSeconds above it",
    },
    Rule {
        id: DRAIN_DELAY_SET,
        severity: Severity::Warning,
        what: "every container has a preStop drain delay, so MCP sessions drain before SIGTERM",
        fix: "set drainSeconds for the server (renders lifecycle.preStop.sleep)",
    },
    Rule {
        id: CANARY_PROMETHEUS,
        severity: Severity::Error,
        what: "servers with the canary strategy have a Prometheus URL (the gates query it)",
        fix: "set prometheus.url in the fleet defaults or for the server",
    },
    Rule {
        id: SLEEP_ACTION_SUPPORTED,
        severity: Severity::Error,
        what: "lifecycle.preStop.sleep is only used for Kubernetes 1.30 or newer (--kube-version)",
        fix: "use an exec `sleep N` preStop hook, or lint with the cluster's --kube-version",
    },
];

/// Looks a rule up by id. Panics on an unknown id: ids are constants of this
/// module, so that is a bug here, never bad input.
pub fn rule(id: &str) -> &'static Rule {
    RULES
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("lint rule {id} is not in RULES"))
}

/// Where a finding points: the index of the object in the rendered list (used
/// to keep the output in render order) and what to say.
pub(crate) struct Hit {
    pub index: usize,
    pub rule: &'static str,
    pub message: String,
    /// A fix naming the actual values, instead of the rule's generic one.
    pub fix: Option<String>,
}

impl Hit {
    pub fn new(index: usize, rule: &'static str, message: impl Into<String>) -> Self {
        Hit {
            index,
            rule,
            message: message.into(),
            fix: None,
        }
    }

    pub fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// What a lint depends on besides the fleet and the objects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LintOptions {
    /// The Kubernetes version the objects are for (`--kube-version`).
    pub kube_version: KubeVersion,
}

/// Runs every rule over `objects`, for the default Kubernetes version.
pub fn lint(fleet: &Fleet, objects: &[Object]) -> Vec<Finding> {
    lint_with(fleet, objects, &LintOptions::default())
}

/// Runs every rule over `objects`. Findings come in render order (by object),
/// then by rule id; the result is deterministic.
pub fn lint_with(fleet: &Fleet, objects: &[Object], opts: &LintOptions) -> Vec<Finding> {
    let ctx = workload::Context::new(fleet, objects);
    let mut hits = Vec::new();
    container_rules::check(&ctx, opts, &mut hits);
    server_rules::check(&ctx, &mut hits);
    hits.sort_by(|a, b| (a.index, a.rule).cmp(&(b.index, b.rule)));
    hits.into_iter()
        .map(|h| {
            let r = rule(h.rule);
            let obj = &objects[h.index];
            Finding {
                rule: r.id,
                severity: r.severity,
                object: object_ref(obj, &fleet.namespace),
                server: ctx.server_of(h.index).to_string(),
                message: h.message,
                fix: h.fix.unwrap_or_else(|| r.fix.to_string()),
            }
        })
        .collect()
}

/// `Kind/namespace/name`; an object without a namespace is in the fleet's.
pub fn object_ref(obj: &Object, default_ns: &str) -> String {
    let ns = if obj.namespace().is_empty() {
        default_ns
    } else {
        obj.namespace()
    };
    format!("{}/{}/{}", obj.kind(), ns, obj.name())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testutil::*;

    #[test]
    fn rule_ids_are_unique_and_ordered() {
        for pair in RULES.windows(2) {
            assert!(
                pair[0].id < pair[1].id,
                "{} before {}",
                pair[0].id,
                pair[1].id
            );
        }
    }

    #[test]
    fn good_server_has_no_findings() {
        let fleet = fleet_of(vec![server("github")]);
        let objs = good_objects("github");
        let findings = lint(&fleet, &objs);
        assert!(findings.is_empty(), "unexpected findings: {findings:#?}");
    }

    #[test]
    fn findings_carry_object_server_severity_and_a_specific_fix() {
        let fleet = fleet_of(vec![server("github")]);
        let mut objs = good_objects("github");
        deployment_mut(&mut objs, "github")["spec"]["template"]["spec"]["containers"][0]["image"] =
            "ghcr.io/acme/github-mcp:latest".into();
        let findings = lint(&fleet, &objs);
        let f = findings
            .iter()
            .find(|f| f.rule == IMAGE_PINNED)
            .expect("MCP010 finding");
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(f.object, "Deployment/mcp/github");
        assert_eq!(f.server, "github");
        assert_eq!(
            f.fix,
            "pin a version: `ghcr.io/acme/github-mcp:<version>` or `ghcr.io/acme/github-mcp@sha256:<digest>`"
        );
        assert!(f.message.contains("latest"), "{}", f.message);
        assert_eq!(Summary::of(&findings).errors, 1);
    }

    #[test]
    fn fix_defaults_to_the_rule_table() {
        let fleet = fleet_of(vec![server("github")]);
        let mut objs = good_objects("github");
        deployment_mut(&mut objs, "github")["spec"]["template"]["spec"]["containers"][0]["securityContext"]
            ["readOnlyRootFilesystem"] = false.into();
        let findings = lint(&fleet, &objs);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].rule, READ_ONLY_ROOT_FS);
        assert_eq!(findings[0].fix, rule(READ_ONLY_ROOT_FS).fix);
    }

    #[test]
    fn output_follows_render_order_then_rule() {
        let fleet = fleet_of(vec![server("a"), server("b")]);
        let mut objs = good_objects("a");
        objs.extend(good_objects("b"));
        for name in ["a", "b"] {
            let c =
                &mut deployment_mut(&mut objs, name)["spec"]["template"]["spec"]["containers"][0];
            c["image"] = "repo/x:latest".into();
            c.as_object_mut().unwrap().remove("readinessProbe");
        }
        let got: Vec<(String, &str)> = lint(&fleet, &objs)
            .into_iter()
            .map(|f| (f.object, f.rule))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Deployment/mcp/a".to_string(), PROBES_SET),
                ("Deployment/mcp/a".to_string(), IMAGE_PINNED),
                ("Deployment/mcp/b".to_string(), PROBES_SET),
                ("Deployment/mcp/b".to_string(), IMAGE_PINNED),
            ]
        );
    }
}
