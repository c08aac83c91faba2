//! Defaulting: what the real API server fills in on write (transcripts 11, 35, 71).
//!
//! API conventions, "Defaulting": "Default values are applied when the object is read from
//! its serialized form ... fields that are not set by the user are set to default values".

use crate::typed::Ty;
use serde_json::{Map, Value, json};

fn set_default(m: &mut Map<String, Value>, k: &str, v: Value) {
    if !m.contains_key(k) || m[k].is_null() {
        m.insert(k.to_string(), v);
    }
}

fn probe(p: &mut Value) {
    let Some(m) = p.as_object_mut() else { return };
    if let Some(h) = m.get_mut("httpGet").and_then(Value::as_object_mut) {
        set_default(h, "scheme", json!("HTTP"));
    }
    set_default(m, "timeoutSeconds", json!(1));
    set_default(m, "periodSeconds", json!(10));
    set_default(m, "successThreshold", json!(1));
    set_default(m, "failureThreshold", json!(3));
}

fn container(c: &mut Value) {
    let Some(m) = c.as_object_mut() else { return };
    if let Some(ports) = m.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            set_default(p, "protocol", json!("TCP"));
        }
    }
    if let Some(env) = m.get_mut("env").and_then(Value::as_array_mut) {
        for e in env.iter_mut() {
            if let Some(fr) = e
                .pointer_mut("/valueFrom/fieldRef")
                .and_then(Value::as_object_mut)
            {
                set_default(fr, "apiVersion", json!("v1"));
            }
        }
    }
    set_default(m, "resources", json!({}));
    for p in ["readinessProbe", "livenessProbe", "startupProbe"] {
        if let Some(pr) = m.get_mut(p) {
            probe(pr);
        }
    }
    set_default(m, "terminationMessagePath", json!("/dev/termination-log"));
    set_default(m, "terminationMessagePolicy", json!("File"));
    let latest = m
        .get("image")
        .and_then(Value::as_str)
        .map(|i| {
            let last = i.rsplit('/').next().unwrap_or(i);
            !last.contains(':') || i.ends_with(":latest")
        })
        .unwrap_or(false);
    let digest = m
        .get("image")
        .and_then(Value::as_str)
        .is_some_and(|i| i.contains('@'));
    set_default(
        m,
        "imagePullPolicy",
        json!(if latest && !digest {
            "Always"
        } else {
            "IfNotPresent"
        }),
    );
}

/// PodSpec defaults (`SetDefaults_PodSpec` and friends; as recorded from v1.28.7, and for an
/// mcpctl-shaped Deployment checked against v1.37.2 by tests/e2e/differential.rs).
pub fn pod_spec(spec: &mut Value) {
    let Some(m) = spec.as_object_mut() else {
        return;
    };
    for list in ["containers", "initContainers"] {
        if let Some(cs) = m.get_mut(list).and_then(Value::as_array_mut) {
            cs.iter_mut().for_each(container);
        }
    }
    if let Some(vols) = m.get_mut("volumes").and_then(Value::as_array_mut) {
        for v in vols.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(s) = v.get_mut("secret").and_then(Value::as_object_mut) {
                set_default(s, "defaultMode", json!(420));
            }
            if let Some(s) = v.get_mut("configMap").and_then(Value::as_object_mut) {
                set_default(s, "defaultMode", json!(420));
            }
            let has_source = v.keys().any(|k| k != "name");
            if !has_source {
                v.insert("emptyDir".into(), json!({}));
            }
        }
    }
    set_default(m, "restartPolicy", json!("Always"));
    set_default(m, "terminationGracePeriodSeconds", json!(30));
    set_default(m, "dnsPolicy", json!("ClusterFirst"));
    if m.contains_key("serviceAccountName") {
        let sa = m["serviceAccountName"].clone();
        set_default(m, "serviceAccount", sa);
    }
    set_default(m, "securityContext", json!({}));
    set_default(m, "schedulerName", json!("default-scheduler"));
}

fn pod_template(t: &mut Value) {
    if let Some(meta) = t
        .as_object_mut()
        .map(|m| m.entry("metadata").or_insert_with(|| json!({})))
        && let Some(mm) = meta.as_object_mut()
    {
        // A zero creationTimestamp is left out (v1.37.2; v1.28.7 wrote `null`), also when the
        // client sent `null`.
        if mm.get("creationTimestamp") == Some(&Value::Null) {
            mm.shift_remove("creationTimestamp");
        }
    }
    if let Some(spec) = t.get_mut("spec") {
        pod_spec(spec);
    }
}

/// Applies the defaults of built-in kinds that mcpctl's objects go through.
pub fn builtin(group: &str, kind: &str, obj: &mut Value) {
    // Go maps marked omitempty: an empty one is not stored (checked against v1.37.2 by
    // tests/e2e/differential.rs).
    if group.is_empty()
        && matches!(kind, "ConfigMap" | "Secret")
        && let Some(m) = obj.as_object_mut()
    {
        for k in ["data", "binaryData"] {
            if m.get(k)
                .and_then(Value::as_object)
                .is_some_and(|d| d.is_empty())
            {
                m.shift_remove(k);
            }
        }
    }
    match (group, kind) {
        ("apps", "Deployment") => {
            let spec = crate::util::obj_mut(obj, &["spec"]);
            set_default(spec, "replicas", json!(1));
            let strategy = spec.entry("strategy").or_insert_with(|| json!({}));
            if let Some(s) = strategy.as_object_mut() {
                set_default(s, "type", json!("RollingUpdate"));
                if s["type"] == "RollingUpdate" {
                    let ru = s.entry("rollingUpdate").or_insert_with(|| json!({}));
                    if let Some(r) = ru.as_object_mut() {
                        set_default(r, "maxUnavailable", json!("25%"));
                        set_default(r, "maxSurge", json!("25%"));
                    }
                }
            }
            set_default(spec, "revisionHistoryLimit", json!(10));
            set_default(spec, "progressDeadlineSeconds", json!(600));
            if let Some(t) = spec.get_mut("template") {
                pod_template(t);
            }
        }
        ("apps", "ReplicaSet")
        | ("apps", "StatefulSet")
        | ("apps", "DaemonSet")
        | ("batch", "Job") => {
            let spec = crate::util::obj_mut(obj, &["spec"]);
            if kind == "ReplicaSet" || kind == "StatefulSet" {
                set_default(spec, "replicas", json!(1));
            }
            if let Some(t) = spec.get_mut("template") {
                pod_template(t);
            }
        }
        ("", "Pod") => {
            if let Some(spec) = obj.get_mut("spec") {
                pod_spec(spec);
            }
            let spec = crate::util::obj_mut(obj, &["spec"]);
            set_default(spec, "enableServiceLinks", json!(true));
            set_default(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
            set_default(spec, "priority", json!(0));
        }
        ("", "Service") => {
            let spec = crate::util::obj_mut(obj, &["spec"]);
            if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
                for p in ports.iter_mut().filter_map(Value::as_object_mut) {
                    set_default(p, "protocol", json!("TCP"));
                    if !p.contains_key("targetPort") {
                        let port = p.get("port").cloned().unwrap_or(Value::Null);
                        p.insert("targetPort".into(), port);
                    }
                }
            }
            set_default(spec, "type", json!("ClusterIP"));
            set_default(spec, "sessionAffinity", json!("None"));
            set_default(spec, "ipFamilyPolicy", json!("SingleStack"));
            set_default(spec, "internalTrafficPolicy", json!("Cluster"));
        }
        ("", "Secret") => {
            if let Some(m) = obj.as_object_mut() {
                set_default(m, "type", json!("Opaque"));
            }
        }
        ("", "Namespace") => {
            let name = obj
                .pointer("/metadata/name")
                .cloned()
                .unwrap_or(Value::Null);
            let labels = crate::util::obj_mut(obj, &["metadata", "labels"]);
            labels.insert("kubernetes.io/metadata.name".into(), name);
        }
        ("", "ServiceAccount") | ("", "ConfigMap") => {}
        ("policy", "PodDisruptionBudget") => {}
        ("networking.k8s.io", "NetworkPolicy") => {
            let spec = crate::util::obj_mut(obj, &["spec"]);
            if !spec.contains_key("policyTypes") {
                let mut types = vec![json!("Ingress")];
                if spec.contains_key("egress") {
                    types.push(json!("Egress"));
                }
                spec.insert("policyTypes".into(), Value::Array(types));
            }
        }
        _ => {}
    }
}

/// Fields the registry strategies and allocators set after decoding (so they are not owned by
/// the writer in managedFields): a Namespace's finalizer and phase, a Service's cluster IP.
pub fn strategy(group: &str, kind: &str, obj: &mut Value, create: bool) {
    match (group, kind) {
        ("", "Namespace") if create => {
            let spec = crate::util::obj_mut(obj, &["spec"]);
            set_default(spec, "finalizers", json!(["kubernetes"]));
            let st = crate::util::obj_mut(obj, &["status"]);
            set_default(st, "phase", json!("Active"));
        }
        ("", "Service") => {
            let spec = crate::util::obj_mut(obj, &["spec"]);
            let external = spec.get("type").and_then(Value::as_str) == Some("ExternalName");
            if !external && spec.get("clusterIP").and_then(Value::as_str) != Some("None") {
                if spec
                    .get("clusterIP")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    let ip = format!(
                        "10.96.{}.{}",
                        rand::random_range(0..=255u8),
                        rand::random_range(1..=254u8)
                    );
                    spec.insert("clusterIP".into(), json!(ip));
                }
                let ip = spec["clusterIP"].clone();
                set_default(spec, "clusterIPs", json!([ip]));
            }
            // The order the real server answers with.
            let order = [
                "ports",
                "selector",
                "clusterIP",
                "clusterIPs",
                "type",
                "sessionAffinity",
                "ipFamilies",
                "ipFamilyPolicy",
                "internalTrafficPolicy",
            ];
            if !external {
                set_default(spec, "ipFamilies", json!(["IPv4"]));
            }
            let mut sorted = serde_json::Map::new();
            for k in order {
                if let Some(v) = spec.shift_remove(k) {
                    sorted.insert(k.into(), v);
                }
            }
            sorted.append(spec);
            *spec = sorted;
            let st = crate::util::obj_mut(obj, &["status"]);
            set_default(st, "loadBalancer", json!({}));
        }
        _ => {}
    }
}

/// Structural defaulting of custom resources: a property with a `default` in the schema is
/// filled in when its parent object exists and the property is missing.
pub fn from_schema(v: &mut Value, ty: Ty) {
    match v {
        Value::Object(m) => {
            if let Some(props) = ty
                .node()
                .and_then(|n| n.get("properties"))
                .and_then(Value::as_object)
            {
                for (k, p) in props {
                    if !m.contains_key(k)
                        && let Some(d) = p.get("default")
                    {
                        m.insert(k.clone(), d.clone());
                    }
                }
            }
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                if let Some(ft) = ty.field(&k)
                    && let Some(c) = m.get_mut(&k)
                {
                    from_schema(c, ft);
                }
            }
        }
        Value::Array(a) => {
            let it = ty.items();
            a.iter_mut().for_each(|c| from_schema(c, it));
        }
        _ => {}
    }
}
