#!/usr/bin/env python3
"""Generate data/builtin-schemas.json: OpenAPI-v3-shaped schemas of the built-in kinds of
Kubernetes v1.28, from the model tables of the official Python client release 28.1.0
(`pip download kubernetes==28.1.0 --no-deps`, unzip, pass the models directory).

The client's models carry field names and types but not the structural-merge markers of the
upstream OpenAPI document (x-kubernetes-list-type, -list-map-keys, -map-type); the MARKERS table
below restores the ones that matter for server-side apply, copied from the v1.28 OpenAPI spec.

usage: gen_builtin_schemas.py MODELS_DIR > data/builtin-schemas.json
"""
import ast, json, os, re, sys

ROOTS = {
    "v1/Namespace": "V1Namespace", "v1/ServiceAccount": "V1ServiceAccount",
    "v1/ConfigMap": "V1ConfigMap", "v1/Secret": "V1Secret", "v1/Service": "V1Service",
    "v1/Pod": "V1Pod", "v1/Endpoints": "V1Endpoints",
    "apps/v1/Deployment": "V1Deployment", "apps/v1/ReplicaSet": "V1ReplicaSet",
    "apps/v1/StatefulSet": "V1StatefulSet", "apps/v1/DaemonSet": "V1DaemonSet",
    "autoscaling/v1/Scale": "V1Scale",
    "autoscaling/v2/HorizontalPodAutoscaler": "V2HorizontalPodAutoscaler",
    "policy/v1/PodDisruptionBudget": "V1PodDisruptionBudget",
    "networking.k8s.io/v1/NetworkPolicy": "V1NetworkPolicy",
    "networking.k8s.io/v1/Ingress": "V1Ingress",
    "coordination.k8s.io/v1/Lease": "V1Lease",
    "rbac.authorization.k8s.io/v1/Role": "V1Role",
    "rbac.authorization.k8s.io/v1/RoleBinding": "V1RoleBinding",
    "rbac.authorization.k8s.io/v1/ClusterRole": "V1ClusterRole",
    "rbac.authorization.k8s.io/v1/ClusterRoleBinding": "V1ClusterRoleBinding",
    "batch/v1/Job": "V1Job", "batch/v1/CronJob": "V1CronJob",
}

# (definition, field) -> markers, from the Kubernetes v1.28 OpenAPI document.
MAP = lambda *keys: {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": list(keys)}
SET = {"x-kubernetes-list-type": "set"}
ATOMIC_MAP = {"x-kubernetes-map-type": "atomic"}
MARKERS = {
    ("V1ObjectMeta", "finalizers"): SET,
    ("V1ObjectMeta", "ownerReferences"): MAP("uid"),
    ("V1PodSpec", "containers"): MAP("name"),
    ("V1PodSpec", "initContainers"): MAP("name"),
    ("V1PodSpec", "ephemeralContainers"): MAP("name"),
    ("V1PodSpec", "volumes"): MAP("name"),
    ("V1PodSpec", "imagePullSecrets"): MAP("name"),
    ("V1PodSpec", "hostAliases"): MAP("ip"),
    ("V1PodSpec", "topologySpreadConstraints"): MAP("topologyKey", "whenUnsatisfiable"),
    ("V1PodSpec", "schedulingGates"): MAP("name"),
    ("V1PodSpec", "resourceClaims"): MAP("name"),
    ("V1PodSpec", "nodeSelector"): ATOMIC_MAP,
    ("V1Container", "ports"): MAP("containerPort", "protocol"),
    ("V1Container", "env"): MAP("name"),
    ("V1Container", "volumeMounts"): MAP("mountPath"),
    ("V1Container", "volumeDevices"): MAP("devicePath"),
    ("V1EphemeralContainer", "env"): MAP("name"),
    ("V1EphemeralContainer", "volumeMounts"): MAP("mountPath"),
    ("V1ServiceSpec", "ports"): MAP("port", "protocol"),
    ("V1ServiceSpec", "selector"): ATOMIC_MAP,
    ("V1ServiceStatus", "conditions"): MAP("type"),
    ("V1DeploymentStatus", "conditions"): MAP("type"),
    ("V1ReplicaSetStatus", "conditions"): MAP("type"),
    ("V1StatefulSetStatus", "conditions"): MAP("type"),
    ("V1DaemonSetStatus", "conditions"): MAP("type"),
    ("V1PodStatus", "conditions"): MAP("type"),
    ("V1NamespaceStatus", "conditions"): MAP("type"),
    ("V1PodDisruptionBudgetStatus", "conditions"): MAP("type"),
    ("V2HorizontalPodAutoscalerStatus", "conditions"): MAP("type"),
    ("V1JobStatus", "conditions"): MAP("type"),
}
# Structs marked x-kubernetes-map-type: atomic in v1.28 (owned as a whole by server-side apply).
ATOMIC_STRUCTS = {
    "V1LabelSelector", "V1LocalObjectReference", "V1ConfigMapKeySelector", "V1SecretKeySelector",
    "V1ObjectFieldSelector", "V1ResourceFieldSelector", "V1NodeSelector", "V1NodeSelectorTerm",
    "V1TypedLocalObjectReference", "V1ObjectReference", "V1ConfigMapEnvSource",
    "V1SecretEnvSource", "V1TopologySelectorTerm", "V1RoleRef", "V1TypedObjectReference",
}
# list-map keys that have a default value (the key is filled in before it is compared).
KEY_DEFAULTS = {("V1Container", "ports"): {"protocol": "TCP"},
                ("V1ServiceSpec", "ports"): {"protocol": "TCP"},
                ("V1EphemeralContainer", "ports"): {"protocol": "TCP"}}

INT_OR_STRING = {"port", "targetPort", "maxSurge", "maxUnavailable", "minAvailable"}

# resource.Quantity is a string in the client models but accepts numbers on the wire.
QUANTITY_MAPS = {("V1ResourceRequirements", "limits"), ("V1ResourceRequirements", "requests")}
QUANTITIES = {("V1EmptyDirVolumeSource", "sizeLimit")}

def snake(name):
    s = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    return s

def load_model(models, cls):
    # V1PodSpec -> v1_pod_spec.py ; V2HorizontalPodAutoscaler -> v2_horizontal_pod_autoscaler.py
    # V1PodSpec -> v1_pod_spec.py, CoreV1EndpointPort -> core_v1_endpoint_port.py,
    # V1HTTPGetAction -> v1_http_get_action.py: match ignoring underscores and case.
    target = cls.lower()
    path = None
    for f in sorted(os.listdir(models)):
        if f.endswith(".py") and f[:-3].replace("_", "") == target:
            path = os.path.join(models, f)
            break
    tree = ast.parse(open(path).read())
    types = amap = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id == "openapi_types":
                types = ast.literal_eval(node.value)
            if node.targets[0].id == "attribute_map":
                amap = ast.literal_eval(node.value)
    return types, amap

defs = {}

def ty_schema(t, owner, field):
    if t in ("str", "datetime", "date"):
        return {"type": "string"}
    if t == "int":
        return {"type": "integer"}
    if t == "float":
        return {"type": "number"}
    if t == "bool":
        return {"type": "boolean"}
    if t == "object":
        # The client uses "object" both for intstr.IntOrString and for free-form JSON
        # (FieldsV1, RawExtension): only the IntOrString fields are typed.
        if field in INT_OR_STRING:
            return {"x-kubernetes-int-or-string": True}
        return {}
    if t.startswith("list["):
        inner = t[5:-1]
        s = {"type": "array", "items": ty_schema(inner, owner, field)}
        return s
    if t.startswith("dict("):
        inner = t[5:-1].split(", ", 1)[1]
        if inner == "object":  # free-form (e.g. quantities are str; this is rare)
            return {"type": "object", "additionalProperties": {"x-kubernetes-int-or-string": True}}
        return {"type": "object", "additionalProperties": ty_schema(inner, owner, field)}
    # a model
    visit(t)
    return {"$ref": t}

def visit(cls):
    if cls in defs:
        return
    defs[cls] = None
    types, amap = load_model(models, cls)
    props = {}
    for py, t in types.items():
        name = amap[py]
        s = ty_schema(t, cls, name)
        if (cls, name) in QUANTITY_MAPS:
            s = {"type": "object", "additionalProperties": {"x-kubernetes-int-or-string": True}}
        if (cls, name) in QUANTITIES:
            s = {"x-kubernetes-int-or-string": True}
        s.update(MARKERS.get((cls, name), {}))
        if (cls, name) in KEY_DEFAULTS:
            s["x-key-defaults"] = KEY_DEFAULTS[(cls, name)]
        props[name] = s
    d = {"type": "object", "properties": props}
    if cls in ATOMIC_STRUCTS:
        d["x-kubernetes-map-type"] = "atomic"
    defs[cls] = d

models = sys.argv[1]
for root in ROOTS.values():
    visit(root)
json.dump({"roots": ROOTS, "definitions": defs}, sys.stdout, indent=None, sort_keys=True)
print()
