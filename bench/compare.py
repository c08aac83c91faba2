#!/usr/bin/env python3
"""Checks that two multi-document YAML streams hold the same objects (by kind,
namespace and name) and reports how many are identical field for field.

usage: compare.py MCPCTL_YAML HELM_YAML
Exits 1 when the sets of objects differ.
"""

import collections
import sys

import yaml


def load(path):
    objs = {}
    with open(path) as f:
        for d in yaml.safe_load_all(f):
            if not d:
                continue
            key = (d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"])
            objs[key] = d
    return objs


def diff(a, b, path=""):
    """Paths where a and b differ (first few)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += diff(a.get(k), b.get(k), f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += diff(x, y, f"{path}[{i}]")
        return out
    return [] if a == b else [path]


def main():
    a, b = load(sys.argv[1]), load(sys.argv[2])
    kinds = collections.Counter(k[0] for k in a)
    print("objects: mcpctl %d, helm %d" % (len(a), len(b)))
    print("kinds: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    for k in only_a[:5]:
        print("only in mcpctl:", "/".join(k))
    for k in only_b[:5]:
        print("only in helm:", "/".join(k))
    same = 0
    paths = collections.Counter()
    for k in set(a) & set(b):
        d = diff(a[k], b[k])
        if not d:
            same += 1
        for p in d:
            paths[(k[0], p)] += 1
    print("identical objects: %d of %d" % (same, len(set(a) & set(b))))
    for (kind, p), n in paths.most_common(10):
        print(f"  differs: {kind} {p} ({n} objects)")
    sys.exit(1 if only_a or only_b else 0)


if __name__ == "__main__":
    main()
