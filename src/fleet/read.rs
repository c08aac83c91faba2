//! Reading the YAML tree into the raw model: the document, each server, and
//! the settings shared by `defaults` and servers. Nested blocks are in
//! `blocks`; every problem is recorded in the context and reading goes on.

use super::blocks;
use super::checks;
use super::decode::{At, Ctx, join};
use super::image::{self, ImageRef};
use super::names;
use super::raw::*;
use super::shape;
use super::yaml::{Entry, Node, Value};

pub(super) fn here(node: &Node, path: &str) -> At<()> {
    At::new((), node.pos, path)
}

/// Decodes the whole document.
pub fn decode(cx: &mut Ctx, root: &Node) -> RawFleet {
    let mut raw = RawFleet {
        pos: root.pos,
        ..RawFleet::default()
    };
    let Value::Map(entries) = &root.value else {
        cx.error(
            root.pos,
            "",
            format!("the fleet file must be a mapping with `fleet`, `namespace` and `servers`, found {}", root.describe()),
            Some("run `mcpctl init` to write an example".into()),
        );
        return raw;
    };
    raw.is_mapping = true;
    for e in entries {
        let path = e.key.clone();
        let v = &e.value;
        match e.key.as_str() {
            "fleet" => {
                raw.fleet = cx.checked_string(v, &path, "fleet name", |s| names::dns_label(s, 63))
            }
            "namespace" => {
                raw.namespace =
                    cx.checked_string(v, &path, "namespace", |s| names::dns_label(s, 63))
            }
            "defaults" => {
                if let Some(entries) = cx.entries(v, &path) {
                    for e in entries {
                        if shape::SERVER.has(&e.key) && !shape::SETTINGS.has(&e.key) {
                            cx.error(
                                e.key_pos,
                                &join(&path, &e.key),
                                format!("`{}` cannot be set in `defaults`", e.key),
                                Some(format!("set `{}` on each entry of `servers`", e.key)),
                            );
                        } else if !settings_entry(cx, e, &path, &mut raw.defaults) {
                            cx.unknown_key(&e.key, e.key_pos, &path, &shape::SETTINGS.keys());
                        }
                    }
                }
            }
            "servers" => {
                if let Some(items) = cx.list(v, &path) {
                    let servers = items
                        .into_iter()
                        .filter_map(|(n, p)| server(cx, n, p))
                        .collect();
                    raw.servers = Some(At::new(servers, v.pos, path));
                }
            }
            _ => cx.unknown_key(&e.key, e.key_pos, "", &shape::FLEET.keys()),
        }
    }
    raw
}

fn server(cx: &mut Ctx, node: &Node, path: String) -> Option<RawServer> {
    let entries = cx.entries(node, &path)?;
    let mut s = RawServer {
        pos: node.pos,
        path: path.clone(),
        name: None,
        image: None,
        image_ref: None,
        settings: Settings::default(),
    };
    for e in entries {
        let p = join(&path, &e.key);
        match e.key.as_str() {
            "name" => {
                s.name = cx.checked_string(&e.value, &p, "server name", |n| {
                    names::dns_label(n, names::MAX_SERVER_NAME).map_err(|r| {
                        if r.contains("limit") {
                            format!(
                                "{r}, leaving room for the `{}` suffix mcpctl adds",
                                names::LONGEST_SUFFIX
                            )
                        } else {
                            r
                        }
                    })
                })
            }
            "image" => {
                s.image = cx.string(&e.value, &p);
                if let Some(img) = &s.image {
                    s.image_ref = image_ref(cx, img);
                }
            }
            _ => {
                if !settings_entry(cx, e, &path, &mut s.settings) {
                    cx.unknown_key(&e.key, e.key_pos, &path, &shape::SERVER.keys());
                }
            }
        }
    }
    Some(s)
}

fn image_ref(cx: &mut Ctx, img: &At<String>) -> Option<ImageRef> {
    match image::parse(&img.value) {
        Ok(r) => {
            let unpinned = match (&r.tag, &r.digest) {
                (Some(t), None) if t == "latest" => Some("uses the `latest` tag"),
                (None, None) => Some("has no tag, so the registry serves `latest`"),
                _ => None,
            };
            if let Some(why) = unpinned {
                cx.warn(
                    img.pos,
                    &img.path,
                    format!(
                        "image `{}` {why}: what runs can change without a deploy",
                        img.value
                    ),
                    Some("pin a version tag (`:1.4.2`) or a digest (`@sha256:…`)".into()),
                );
            }
            Some(r)
        }
        Err(reason) => {
            cx.error(
                img.pos,
                &img.path,
                format!("invalid image reference `{}`: {reason}", img.value),
                Some("write it like `ghcr.io/acme/github-mcp:1.4.2` or `registry/repo@sha256:<64 hex>`".into()),
            );
            None
        }
    }
}

/// Decodes one settings key into `s`; returns false when `e.key` is not a setting.
fn settings_entry(cx: &mut Ctx, e: &Entry, parent: &str, s: &mut Settings) -> bool {
    let path = join(parent, &e.key);
    let p = path.as_str();
    let v = &e.value;
    match e.key.as_str() {
        "replicas" => s.replicas = cx.u32(v, p, 0),
        "port" => {
            s.port = cx
                .int(v, p, 1, 65535)
                .map(|a| At::new(a.value as u16, a.pos, a.path))
        }
        "path" => s.path = cx.checked_string(v, p, "path", checks::http_path),
        "router" => s.router = cx.choice(v, p, ROUTERS),
        "strategy" => s.strategy = cx.choice(v, p, STRATEGIES),
        "canary" => blocks::canary(cx, v, p, &mut s.canary),
        "blueGreen" => {
            for e in fields(cx, v, p, &shape::BLUE_GREEN) {
                let q = join(p, &e.key);
                s.blue_green.scale_down_delay = cx.duration(&e.value, &q);
            }
        }
        "prometheus" => {
            let mut prom = RawPrometheus {
                at: here(v, p),
                url: None,
            };
            for e in fields(cx, v, p, &shape::PROMETHEUS) {
                prom.url = cx.checked_string(&e.value, &join(p, &e.key), "URL", checks::http_url);
            }
            s.prometheus = Some(prom);
        }
        "tls" => s.tls = blocks::tls(cx, v, p),
        "resources" => {
            for e in fields(cx, v, p, &shape::RESOURCES) {
                let q = join(p, &e.key);
                let list = if e.key == "requests" {
                    &mut s.resources.requests
                } else {
                    &mut s.resources.limits
                };
                for e in fields(cx, &e.value, &q, &shape::RESOURCE_LIST) {
                    let r = join(&q, &e.key);
                    let value = cx.checked_string(&e.value, &r, "quantity", |t| {
                        super::quantity::parse(t)
                            .map(|_| ())
                            .map_err(|e| format!("is not valid: {e}"))
                    });
                    if e.key == "cpu" {
                        list.cpu = value
                    } else {
                        list.memory = value
                    }
                }
            }
        }
        "autoscaling" => s.autoscaling = blocks::autoscaling(cx, v, p),
        "drainSeconds" => {
            s.drain_seconds = cx
                .int(v, p, 0, 3600)
                .map(|a| At::new(a.value as u32, a.pos, a.path))
        }
        "ingress" => blocks::ingress(cx, v, p, &mut s.ingress),
        "allowFromNamespaces" => {
            s.allow_from_namespaces =
                string_list(cx, v, p, "namespace", |n| names::dns_label(n, 63))
        }
        "labels" => {
            if let Some(m) =
                cx.string_map(v, p, "label key", names::user_label_key, names::label_value)
            {
                s.labels = m;
            }
        }
        "podAnnotations" => {
            if let Some(m) =
                cx.string_map(v, p, "annotation key", names::user_annotation_key, |_| {
                    Ok(())
                })
            {
                s.pod_annotations = m;
            }
        }
        "env" => {
            if let Some(m) = cx.string_map(v, p, "environment variable", names::env_var, |_| Ok(()))
            {
                s.env = m;
            }
        }
        "secretEnv" => s.secret_env = blocks::secret_env(cx, v, p),
        _ => return false,
    }
    true
}

/// The entries of a mapping whose keys are `block`'s; others are reported.
pub(super) fn fields<'n>(
    cx: &mut Ctx,
    node: &'n Node,
    path: &str,
    block: &shape::Block,
) -> Vec<&'n Entry> {
    let Some(entries) = cx.entries(node, path) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries {
        if block.has(&e.key) {
            out.push(e);
        } else {
            cx.unknown_key(&e.key, e.key_pos, path, &block.keys());
        }
    }
    out
}

pub(super) fn string_list(
    cx: &mut Ctx,
    node: &Node,
    path: &str,
    what: &str,
    check: impl Fn(&str) -> Result<(), String>,
) -> Opt<Vec<At<String>>> {
    let items = cx.list(node, path)?;
    let values = items
        .into_iter()
        .filter_map(|(n, p)| cx.checked_string(n, &p, what, &check))
        .collect();
    Some(At::new(values, node.pos, path))
}
