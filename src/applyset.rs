//! Each fleet is an ApplySet (KEP-3659), with the labels, annotations and id
//! kubectl computes (`staging/src/k8s.io/kubectl/pkg/cmd/apply/applyset.go`),
//! so that `kubectl apply --prune --applyset=configmap/<parent>` and any other
//! ApplySet-aware tool see the same set as mcpctl:
//!
//! - the **parent** is a ConfigMap `mcpctl.applyset.<fleet>` in the fleet's
//!   namespace (kubectl accepts ConfigMaps and Secrets as parents; a
//!   ConfigMap needs no permission on Secrets), labelled
//!   `applyset.kubernetes.io/id` and annotated with the tooling, the
//!   group-kinds of its members and the other namespaces they live in;
//! - every **member** (every object mcpctl renders) is labelled
//!   `applyset.kubernetes.io/part-of: <id>`.
//!
//! Pure: the id, the parent's body, parsing it back, and which live members
//! an apply prunes. The requests are in [`crate::cluster::prune`].

use std::collections::BTreeSet;
use std::fmt;

use base64::Engine;
use serde_json::{Value, json};

use crate::error::{Error, Result};

/// Label of the parent: the set's id.
pub const ID_LABEL: &str = "applyset.kubernetes.io/id";
/// Label of every member: the id of the set it belongs to.
pub const PART_OF_LABEL: &str = "applyset.kubernetes.io/part-of";
/// Annotation of the parent: `<tool>/<version>` of the tool that manages it.
pub const TOOLING_ANNOTATION: &str = "applyset.kubernetes.io/tooling";
/// Annotation of the parent: the members' group-kinds, `Kind.group`, sorted, comma separated.
pub const GROUP_KINDS_ANNOTATION: &str = "applyset.kubernetes.io/contains-group-kinds";
/// Annotation of the parent: namespaces other than the parent's holding members.
pub const NAMESPACES_ANNOTATION: &str = "applyset.kubernetes.io/additional-namespaces";
/// Tool name in the tooling annotation; another tool's set is never changed.
pub const TOOL: &str = "mcpctl";
/// The field manager of the parent (kubectl uses `<tool>-applyset`).
pub const PARENT_MANAGER: &str = "mcpctl-applyset";
/// Kind and group of the parent.
pub const PARENT_KIND: &str = "ConfigMap";
pub const PARENT_GROUP: &str = "";

/// The tooling annotation's value: `mcpctl/<version>`.
pub fn tooling() -> String {
    format!("{TOOL}/{}", env!("CARGO_PKG_VERSION"))
}

/// The name of the fleet's parent ConfigMap.
pub fn parent_name(fleet: &str) -> String {
    format!("mcpctl.applyset.{fleet}")
}

/// kubectl's ApplySet id: `applyset-` + base64url without padding of
/// sha256(`<name>.<namespace>.<kind>.<group>`) + `-v1` (the format
/// `applyset-%s-v1`: a label value must start and end alphanumeric).
pub fn id(name: &str, namespace: &str, kind: &str, group: &str) -> String {
    let unencoded = [name, namespace, kind, group].join(".");
    let hashed = ring::digest::digest(&ring::digest::SHA256, unencoded.as_bytes());
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hashed.as_ref());
    format!("applyset-{b64}-v1")
}

/// The id of a fleet's set (its parent ConfigMap in `namespace`).
pub fn fleet_id(fleet: &str, namespace: &str) -> String {
    id(&parent_name(fleet), namespace, PARENT_KIND, PARENT_GROUP)
}

/// A group and kind, written `Kind.group` (`Kind` for the core group) like
/// Go's `schema.GroupKind.String()`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupKind {
    pub group: String,
    pub kind: String,
}

impl GroupKind {
    pub fn new(group: &str, kind: &str) -> GroupKind {
        GroupKind {
            group: group.to_string(),
            kind: kind.to_string(),
        }
    }

    /// Parses `Kind.group` (the kind is everything before the first dot),
    /// like Go's `schema.ParseGroupKind`.
    pub fn parse(text: &str) -> GroupKind {
        match text.split_once('.') {
            Some((k, g)) => GroupKind::new(g, k),
            None => GroupKind::new("", text),
        }
    }

    /// Of an object (its `apiVersion` and `kind`).
    pub fn of(obj: &Value) -> GroupKind {
        let av = obj["apiVersion"].as_str().unwrap_or("");
        let group = av.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
        GroupKind::new(group, obj["kind"].as_str().unwrap_or(""))
    }
}

impl fmt::Display for GroupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            write!(f, "{}", self.kind)
        } else {
            write!(f, "{}.{}", self.kind, self.group)
        }
    }
}

/// The contains-group-kinds value: sorted (as strings, like kubectl), comma separated.
pub fn group_kinds_value(gks: &BTreeSet<GroupKind>) -> String {
    let mut v: Vec<String> = gks.iter().map(ToString::to_string).collect();
    v.sort();
    v.dedup();
    v.join(",")
}

/// The additional-namespaces value: sorted, without the parent's own.
pub fn namespaces_value(namespaces: &BTreeSet<String>, parent_ns: &str) -> String {
    namespaces
        .iter()
        .filter(|n| n.as_str() != parent_ns && !n.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(",")
}

/// What the parent records: the members' group-kinds and namespaces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contents {
    pub group_kinds: BTreeSet<GroupKind>,
    /// Namespaces holding members, the parent's own included.
    pub namespaces: BTreeSet<String>,
}

impl Contents {
    /// Both sets' group-kinds and namespaces: what the parent must record
    /// before an apply, so that an interrupted one leaks nothing.
    pub fn union(&self, other: &Contents) -> Contents {
        Contents {
            group_kinds: self
                .group_kinds
                .union(&other.group_kinds)
                .cloned()
                .collect(),
            namespaces: self.namespaces.union(&other.namespaces).cloned().collect(),
        }
    }

    /// Of a list of objects (rendered or live members).
    pub fn of<'a>(objects: impl IntoIterator<Item = &'a Value>, default_ns: &str) -> Contents {
        let mut c = Contents::default();
        c.namespaces.insert(default_ns.to_string());
        for o in objects {
            c.group_kinds.insert(GroupKind::of(o));
            if let Some(ns) = o["metadata"]["namespace"]
                .as_str()
                .filter(|s| !s.is_empty())
            {
                c.namespaces.insert(ns.to_string());
            }
        }
        c
    }
}

/// The parent ConfigMap as mcpctl applies it (server-side apply, field
/// manager [`PARENT_MANAGER`]).
pub fn parent_object(fleet: &str, namespace: &str, contents: &Contents) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": PARENT_KIND,
        "metadata": {
            "name": parent_name(fleet),
            "namespace": namespace,
            "labels": {
                ID_LABEL: fleet_id(fleet, namespace),
                "app.kubernetes.io/managed-by": "mcpctl",
                "mcpctl.io/fleet": fleet,
                "mcpctl.io/record": "applyset",
            },
            "annotations": {
                TOOLING_ANNOTATION: tooling(),
                GROUP_KINDS_ANNOTATION: group_kinds_value(&contents.group_kinds),
                NAMESPACES_ANNOTATION: namespaces_value(&contents.namespaces, namespace),
            },
        },
    })
}

/// Reads a live parent: what it records, after checking that it is this
/// fleet's set and mcpctl's (another tool's set is never changed, as the
/// specification requires).
pub fn parse_parent(parent: &Value, fleet: &str, namespace: &str) -> Result<Contents> {
    let name = parent_name(fleet);
    let where_ = format!("ConfigMap {namespace}/{name}");
    let labels = &parent["metadata"]["labels"];
    let annotations = &parent["metadata"]["annotations"];
    let want = fleet_id(fleet, namespace);
    match labels[ID_LABEL].as_str() {
        Some(id) if id == want => {}
        Some(id) => {
            return Err(Error::Failed(format!(
                "{where_} has label {ID_LABEL}={id}, not the id of fleet {fleet}'s ApplySet ({want}): \
                 it belongs to another set. Rename or delete it (`kubectl -n {namespace} get configmap \
                 {name} -o yaml` shows whose it is)"
            )));
        }
        None => {
            return Err(Error::Failed(format!(
                "{where_} exists but is not an ApplySet parent (no {ID_LABEL} label): mcpctl would \
                 record fleet {fleet}'s set in it. Rename or delete it"
            )));
        }
    }
    let tooling = annotations[TOOLING_ANNOTATION].as_str().unwrap_or("");
    let base = tooling.rsplit_once('/').map(|(b, _)| b).unwrap_or(tooling);
    if base != TOOL {
        return Err(Error::Failed(format!(
            "{where_} is the ApplySet of fleet {fleet} but is managed by {:?}, not mcpctl \
             (annotation {TOOLING_ANNOTATION}); mcpctl does not change another tool's set",
            if tooling.is_empty() {
                "no tool"
            } else {
                tooling
            }
        )));
    }
    let mut c = Contents::default();
    c.namespaces.insert(namespace.to_string());
    if let Some(v) = annotations[GROUP_KINDS_ANNOTATION].as_str() {
        c.group_kinds = v
            .split(',')
            .filter(|s| !s.is_empty())
            .map(GroupKind::parse)
            .collect();
    }
    if let Some(v) = annotations[NAMESPACES_ANNOTATION].as_str() {
        c.namespaces
            .extend(v.split(',').filter(|s| !s.is_empty()).map(str::to_string));
    }
    Ok(c)
}

/// Labels `obj` as a member of the set `id`.
pub fn label_member(obj: &mut Value, id: &str) {
    if !obj["metadata"]["labels"].is_object() {
        obj["metadata"]["labels"] = json!({});
    }
    obj["metadata"]["labels"][PART_OF_LABEL] = Value::String(id.to_string());
}

/// One object, by what identifies it in the cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    pub gk: GroupKind,
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn of(obj: &Value, default_ns: &str) -> ObjectKey {
        ObjectKey {
            gk: GroupKind::of(obj),
            namespace: obj["metadata"]["namespace"]
                .as_str()
                .filter(|s| !s.is_empty())
                .unwrap_or(default_ns)
                .to_string(),
            name: obj["metadata"]["name"].as_str().unwrap_or("").to_string(),
        }
    }
}

/// The server an object belongs to (its `app.kubernetes.io/name`), if any.
pub fn server_of(obj: &Value) -> Option<&str> {
    obj["metadata"]["labels"][crate::render::context::labels::NAME].as_str()
}

/// The live members an apply prunes: those not among the `intended` objects,
/// of the servers in `only` (every server of the set when `None`). A member
/// without a server label is pruned only when every server is applied.
pub fn to_prune<'a>(
    live: &'a [Value],
    intended: &BTreeSet<ObjectKey>,
    only: Option<&BTreeSet<String>>,
    default_ns: &str,
) -> Vec<&'a Value> {
    live.iter()
        .filter(|o| !intended.contains(&ObjectKey::of(o, default_ns)))
        .filter(|o| match (only, server_of(o)) {
            (None, _) => true,
            (Some(only), Some(s)) => only.contains(s),
            (Some(_), None) => false,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expected ids are computed by kubectl's algorithm outside this code:
    /// `printf '%s' 'mcpctl.applyset.acme.mcp.ConfigMap.' | openssl dgst -sha256 -binary | basenc --base64url | tr -d =`.
    #[test]
    fn id_follows_kubectl() {
        assert_eq!(
            id("mcpctl.applyset.acme", "mcp", "ConfigMap", ""),
            "applyset-zaa8gYC1XCx6Xq5DJQ3lL4mAW9Ka7NI4kljL2Pk1OTw-v1"
        );
        // The Secret `my-set` of namespace `test` in kubectl's apply_test.go and the
        // Kubernetes documentation of the label.
        assert_eq!(
            id("my-set", "test", "Secret", ""),
            "applyset-0eFHV8ySqp7XoShsGvyWFQD3s96yqwHmzc4e0HR1dsY-v1"
        );
        assert_eq!(
            fleet_id("acme", "mcp"),
            id("mcpctl.applyset.acme", "mcp", "ConfigMap", "")
        );
        let a = fleet_id("acme", "mcp");
        assert!(a.starts_with("applyset-") && a.ends_with("-v1") && a.len() <= 63);
        assert_ne!(a, fleet_id("acme", "other"));
        assert_ne!(a, fleet_id("acme2", "mcp"));
    }

    #[test]
    fn group_kinds_are_written_like_go() {
        let gks: BTreeSet<GroupKind> = [
            GroupKind::new("networking.istio.io", "VirtualService"),
            GroupKind::new("apps", "Deployment"),
            GroupKind::new("", "Service"),
            GroupKind::new("", "ConfigMap"),
        ]
        .into();
        assert_eq!(
            group_kinds_value(&gks),
            "ConfigMap,Deployment.apps,Service,VirtualService.networking.istio.io"
        );
        assert_eq!(
            GroupKind::parse("VirtualService.networking.istio.io"),
            GroupKind::new("networking.istio.io", "VirtualService")
        );
        assert_eq!(GroupKind::parse("Service"), GroupKind::new("", "Service"));
        assert_eq!(
            GroupKind::of(
                &json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler"})
            ),
            GroupKind::new("autoscaling", "HorizontalPodAutoscaler")
        );
        assert_eq!(
            GroupKind::of(&json!({"apiVersion": "v1", "kind": "Service"})),
            GroupKind::new("", "Service")
        );
    }

    #[test]
    fn parent_round_trips_and_other_sets_are_refused() {
        let mut c = Contents::default();
        c.group_kinds.insert(GroupKind::new("apps", "Deployment"));
        c.group_kinds.insert(GroupKind::new("", "Service"));
        c.namespaces.insert("mcp".into());
        c.namespaces.insert("istio-system".into());
        let p = parent_object("acme", "mcp", &c);
        assert_eq!(p["metadata"]["name"], "mcpctl.applyset.acme");
        assert_eq!(p["metadata"]["labels"][ID_LABEL], fleet_id("acme", "mcp"));
        assert_eq!(
            p["metadata"]["annotations"][GROUP_KINDS_ANNOTATION],
            "Deployment.apps,Service"
        );
        assert_eq!(
            p["metadata"]["annotations"][NAMESPACES_ANNOTATION],
            "istio-system"
        );
        assert_eq!(
            p["metadata"]["annotations"][TOOLING_ANNOTATION],
            format!("mcpctl/{}", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(parse_parent(&p, "acme", "mcp").unwrap(), c);

        let mut kubectls = p.clone();
        kubectls["metadata"]["annotations"][TOOLING_ANNOTATION] = json!("kubectl/v1.32.4");
        let e = parse_parent(&kubectls, "acme", "mcp")
            .unwrap_err()
            .to_string();
        assert!(e.contains("managed by \"kubectl/v1.32.4\""), "{e}");
        let e = parse_parent(&p, "acme", "elsewhere")
            .unwrap_err()
            .to_string();
        assert!(e.contains("belongs to another set"), "{e}");
        let e = parse_parent(&json!({"metadata": {}}), "acme", "mcp")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not an ApplySet parent"), "{e}");
    }

    #[test]
    fn union_keeps_both_sets() {
        let objs = [
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"}}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "namespace": "other"}}),
        ];
        let now = Contents::of(objs.iter(), "mcp");
        assert_eq!(
            now.namespaces,
            BTreeSet::from(["mcp".to_string(), "other".to_string()])
        );
        let before = Contents::of(
            [json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "a"}})]
                .iter(),
            "mcp",
        );
        let u = before.union(&now);
        assert_eq!(u.group_kinds.len(), 3);
        assert_eq!(u.namespaces.len(), 2);
    }

    #[test]
    fn prunes_only_what_is_no_longer_rendered_of_the_chosen_servers() {
        let obj = |kind: &str, av: &str, name: &str, server: Option<&str>| {
            let mut o = json!({"apiVersion": av, "kind": kind, "metadata": {"name": name, "namespace": "mcp", "labels": {}}});
            if let Some(s) = server {
                o["metadata"]["labels"]["app.kubernetes.io/name"] = json!(s);
            }
            o
        };
        let live = vec![
            obj("Deployment", "apps/v1", "github", Some("github")),
            obj(
                "HorizontalPodAutoscaler",
                "autoscaling/v2",
                "github",
                Some("github"),
            ),
            obj("Deployment", "apps/v1", "old", Some("old")),
            obj("ConfigMap", "v1", "extra", None),
        ];
        let intended: BTreeSet<ObjectKey> = [ObjectKey::of(&live[0], "mcp")].into();
        let names = |v: Vec<&Value>| -> Vec<String> {
            v.iter()
                .map(|o| {
                    format!(
                        "{}/{}",
                        o["kind"].as_str().unwrap(),
                        o["metadata"]["name"].as_str().unwrap()
                    )
                })
                .collect()
        };
        assert_eq!(
            names(to_prune(&live, &intended, None, "mcp")),
            [
                "HorizontalPodAutoscaler/github",
                "Deployment/old",
                "ConfigMap/extra"
            ]
        );
        let only: BTreeSet<String> = ["github".to_string()].into();
        assert_eq!(
            names(to_prune(&live, &intended, Some(&only), "mcp")),
            ["HorizontalPodAutoscaler/github"]
        );
        // The same name in another namespace or of another kind is another object.
        let moved = obj("Deployment", "apps/v1", "github", Some("github"));
        let mut moved_ns = moved.clone();
        moved_ns["metadata"]["namespace"] = json!("other");
        assert_eq!(to_prune(&[moved_ns], &intended, None, "mcp").len(), 1);
        assert!(to_prune(&[moved], &intended, None, "mcp").is_empty());
    }
}
