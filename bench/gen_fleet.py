#!/usr/bin/env python3
"""Generates a benchmark fleet of N MCP servers, twice: as an mcpctl fleet file
and as values for the equivalent Helm chart under bench/helm-chart/.

Deterministic (no randomness): server i gets strategy i % 3, router (i // 3) % 3,
so every strategy/router pair is equally represented; every 4th server
autoscales, every 2nd has TLS, every 5th has secret env, every 2nd image is
pinned by digest.

usage: gen_fleet.py N FLEET_OUT VALUES_OUT
"""

import json
import sys

STRATEGIES = ["rolling", "blue-green", "canary"]
ROUTERS = ["service", "istio", "gateway-api"]
DIGEST = "sha256:4f1c2b8e0d9a7c6b5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d"
NAMESPACE = "mcp"
FLEET = "bench"
RESOURCES = {
    "requests": {"cpu": "100m", "memory": "128Mi"},
    "limits": {"cpu": "1", "memory": "512Mi"},
}


def server(i):
    name = f"mcp-{i:04d}"
    tag = f"1.{i % 10}.{i % 7}"
    digest = i % 2 == 0
    image = f"ghcr.io/acme/{name}:{tag}" + (f"@{DIGEST}" if digest else "")
    s = {
        "name": name,
        "image": image,
        "version": tag,
        "replicas": 2 + i % 3,
        "strategy": STRATEGIES[i % 3],
        "router": ROUTERS[(i // 3) % 3],
        "env": {"LOG_LEVEL": "info", "MCP_SERVER_NAME": name, "UPSTREAM_URL": f"https://api.example.com/{i}"},
        "secretEnv": [],
        "autoscaling": None,
        "tls": None,
        "hosts": [],
        "istioGateways": [],
        "gateway": None,
    }
    if i % 5 == 0:
        s["secretEnv"] = [{"name": "API_TOKEN", "secret": f"{name}-token", "key": "token"}]
    if i % 4 == 0:
        s["autoscaling"] = {"minReplicas": 2, "maxReplicas": 10, "targetCPU": 70, "targetMemory": 80}
    if i % 2 == 0:
        s["tls"] = {"secretName": f"{name}-tls", "caSecret": "mcp-ca"}
    if s["router"] == "istio":
        s["hosts"] = [f"{name}.mcp.example.com"]
        s["istioGateways"] = ["istio-system/public"]
    if s["router"] == "gateway-api":
        s["hosts"] = [f"{name}.mcp.example.com"]
        s["gateway"] = {"name": "public", "namespace": "gateways"}
    return s


def q(v):
    """A YAML scalar: JSON strings are valid YAML double-quoted scalars."""
    return json.dumps(v)


def fleet_yaml(servers):
    out = [
        f"fleet: {FLEET}",
        f"namespace: {NAMESPACE}",
        "defaults:",
        "  port: 8080",
        "  path: /mcp",
        "  drainSeconds: 15",
        "  prometheus: {url: http://prometheus.monitoring:9090}",
        "  canary:",
        "    steps: [10, 25, 50, 100]",
        "    stepDuration: 2m",
        "    analysis: {interval: 30s, maxErrorRate: 0.01, minRequests: 20, noData: fail}",
        "  resources:",
        "    requests: {cpu: 100m, memory: 128Mi}",
        '    limits: {cpu: "1", memory: 512Mi}',
        "servers:",
    ]
    for s in servers:
        out.append(f"  - name: {s['name']}")
        out.append(f"    image: {q(s['image'])}")
        out.append(f"    replicas: {s['replicas']}")
        out.append(f"    strategy: {s['strategy']}")
        out.append(f"    router: {s['router']}")
        out.append("    env:")
        for k, v in s["env"].items():
            out.append(f"      {k}: {q(v)}")
        if s["secretEnv"]:
            out.append("    secretEnv:")
            for e in s["secretEnv"]:
                out.append(f"      - {{name: {e['name']}, secret: {e['secret']}, key: {e['key']}}}")
        if s["autoscaling"]:
            a = s["autoscaling"]
            out.append(
                f"    autoscaling: {{minReplicas: {a['minReplicas']}, maxReplicas: {a['maxReplicas']}, "
                f"targetCPU: {a['targetCPU']}, targetMemory: {a['targetMemory']}}}"
            )
        if s["tls"]:
            out.append(f"    tls: {{secretName: {s['tls']['secretName']}, caSecret: {s['tls']['caSecret']}}}")
        if s["router"] == "istio":
            out.append(f"    ingress: {{hosts: [{s['hosts'][0]}], istioGateways: [{s['istioGateways'][0]}]}}")
        if s["router"] == "gateway-api":
            g = s["gateway"]
            out.append(
                f"    ingress: {{hosts: [{s['hosts'][0]}], gateway: {{name: {g['name']}, namespace: {g['namespace']}}}}}"
            )
    return "\n".join(out) + "\n"


def helm_values(servers):
    return {
        "fleet": FLEET,
        "namespace": NAMESPACE,
        "port": 8080,
        "drainSeconds": 15,
        "terminationGracePeriodSeconds": 45,
        "resources": RESOURCES,
        "servers": servers,
    }


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: gen_fleet.py N FLEET_OUT VALUES_OUT")
    n = int(sys.argv[1])
    servers = [server(i) for i in range(n)]
    with open(sys.argv[2], "w") as f:
        f.write(fleet_yaml(servers))
    # JSON is YAML: Helm reads it as a values file.
    with open(sys.argv[3], "w") as f:
        json.dump(helm_values(servers), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
