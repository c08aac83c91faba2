//! Rendering Kubernetes objects from templates: embedded defaults, overridable
//! by file name from a user directory. Pure: no cluster access.
//!
//! Each server gets a context computed in Rust ([`context::ServerContext`]);
//! each template (one per kind, under `templates/`) renders zero or more YAML
//! documents from it, which are parsed back into JSON values so that callers
//! (lint, apply, diff) work on data, not text. Templates ending in `.yaml`
//! JSON-escape every `{{ value }}` (minijinja's default auto-escape for
//! `.yaml`), so a value can never break the YAML around it.

pub mod context;
pub mod dashboard;
mod emit;
mod fastyaml;
mod object;
pub mod options;
#[cfg(test)]
pub mod testing;
pub mod typed;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use minijinja::{Environment, UndefinedBehavior};

pub use object::Object;

/// The rendered object `kind`/`name` (a rollout acts on it), or the error
/// that a template override dropped it.
pub fn rendered(
    objects: &[serde_json::Value],
    kind: &str,
    name: &str,
) -> Result<serde_json::Value> {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .cloned()
        .ok_or_else(|| {
            Error::Template(format!(
                "the templates render no {kind} named {name}; a template override must keep it"
            ))
        })
}
pub use options::{Colour, KubeVersion, RenderOptions, RolloutState, Track, TrackState};

use crate::error::{Error, Result};
use crate::fleet::{Fleet, Router, Server};
use context::ServerContext;

static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// Template files, in the order their objects are emitted for a server.
pub const TEMPLATES: &[&str] = &[
    "serviceaccount.yaml",
    "configmap.yaml",
    "deployment.yaml",
    "service.yaml",
    "hpa.yaml",
    "pdb.yaml",
    "networkpolicy.yaml",
    "destinationrule.yaml",
    "virtualservice.yaml",
    "httproute.yaml",
    "servicemonitor.yaml",
    "prometheusrule.yaml",
];

/// Templates of the fleet's own objects (not of a server), in emission order.
pub const FLEET_TEMPLATES: &[&str] = &["dashboard.yaml"];

/// The templates that apply to a server (by strategy, router and autoscaling).
pub fn templates_for(server: &Server) -> Vec<&'static str> {
    TEMPLATES
        .iter()
        .copied()
        .filter(|t| match *t {
            "hpa.yaml" => server.autoscaling.is_some(),
            "destinationrule.yaml" | "virtualservice.yaml" => server.router == Router::Istio,
            "httproute.yaml" => server.router == Router::GatewayApi,
            _ => true,
        })
        .collect()
}

/// The template environment: embedded templates, with any overrides applied.
pub struct Renderer {
    env: Environment<'static>,
    /// Where each template came from, for messages: `templates/x.yaml (embedded)`
    /// or the override file's path.
    origins: BTreeMap<String, String>,
    /// Override files whose name matches no embedded template.
    unused_overrides: Vec<PathBuf>,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("origins", &self.origins)
            .finish_non_exhaustive()
    }
}

impl Renderer {
    /// Builds the environment from the embedded templates; every file of
    /// `override_dir` replaces the embedded template of the same file name.
    pub fn new(override_dir: Option<&Path>) -> Result<Renderer> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .keep_trailing_newline(true)
                .build()
                .expect("the default delimiters are valid"),
        );
        // `.yaml` already maps to JSON escaping by default; say so explicitly so
        // that a change of default cannot silently turn escaping off.
        env.set_auto_escape_callback(|name| {
            let base = name.strip_suffix(".j2").unwrap_or(name);
            if base.ends_with(".yaml") || base.ends_with(".yml") || base.ends_with(".json") {
                minijinja::AutoEscape::Json
            } else {
                minijinja::AutoEscape::None
            }
        });

        let mut sources: BTreeMap<String, (String, String)> = BTreeMap::new();
        for file in EMBEDDED.files() {
            let name = file.path().to_string_lossy().into_owned();
            let text = file
                .contents_utf8()
                .ok_or_else(|| Error::Template(format!("embedded template {name} is not UTF-8")))?;
            sources.insert(
                name.clone(),
                (format!("templates/{name} (embedded)"), text.to_string()),
            );
        }

        let mut unused_overrides = Vec::new();
        if let Some(dir) = override_dir {
            let entries = std::fs::read_dir(dir).map_err(|e| {
                Error::Usage(format!(
                    "cannot read template directory {}: {e}; pass an existing directory to --templates",
                    dir.display()
                ))
            })?;
            let mut paths = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|e| {
                    Error::Usage(format!(
                        "cannot read template directory {}: {e}",
                        dir.display()
                    ))
                })?;
                let path = entry.path();
                if path.is_file() {
                    paths.push(path);
                }
            }
            paths.sort();
            for path in paths {
                let name = path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    Error::Usage(format!("cannot read template {}: {e}", path.display()))
                })?;
                if !sources.contains_key(&name) {
                    unused_overrides.push(path.clone());
                }
                sources.insert(name, (path.display().to_string(), text));
            }
        }

        let mut origins = BTreeMap::new();
        for (name, (origin, text)) in sources {
            env.add_template_owned(name.clone(), text)
                .map_err(|e| template_error(&origin, &e))?;
            origins.insert(name, origin);
        }
        Ok(Renderer {
            env,
            origins,
            unused_overrides,
        })
    }

    /// Files of the override directory that replace no embedded template
    /// (they can still be included by other templates). Worth a warning:
    /// usually a misspelt file name.
    pub fn unused_overrides(&self) -> &[PathBuf] {
        &self.unused_overrides
    }

    /// Renders the servers named in `only` (all when empty), in fleet order.
    pub fn render_fleet(
        &self,
        fleet: &Fleet,
        only: &[String],
        opts: &RenderOptions,
    ) -> Result<Vec<Object>> {
        let mut out = Vec::new();
        self.render_each(
            fleet,
            only,
            opts,
            |_, objects| objects,
            |objects| {
                out.extend(objects);
                Ok(())
            },
        )?;
        Ok(out)
    }

    /// Renders the selected servers on all cores, in batches so that memory
    /// stays flat for large fleets: `map` turns one server's objects into
    /// whatever the caller keeps (YAML text, files to write) on a worker
    /// thread, and `sink` receives the results in fleet order on the calling
    /// thread. The first error in fleet order stops the run.
    pub fn render_each<R: Send>(
        &self,
        fleet: &Fleet,
        only: &[String],
        opts: &RenderOptions,
        map: impl Fn(&Server, Vec<Object>) -> R + Sync,
        mut sink: impl FnMut(R) -> Result<()>,
    ) -> Result<()> {
        let selected = select(fleet, only)?;
        let batch = 64 * std::thread::available_parallelism().map_or(1, |n| n.get());
        for part in selected.chunks(batch) {
            let results = par_map(part, |s| {
                self.render_server(fleet, s, opts).map(|o| map(s, o))
            });
            for r in results {
                sink(r?)?;
            }
        }
        Ok(())
    }

    /// Renders the objects of the fleet itself, not of one server (its Grafana dashboard,
    /// unless `dashboard.enabled` is false): only when the whole fleet is rendered
    /// (`only` empty), since they cover every server. They carry no server label
    /// (`app.kubernetes.io/name`): that is how apply, diff, prune and delete tell
    /// them from a server's objects.
    pub fn render_fleet_objects(
        &self,
        fleet: &Fleet,
        only: &[String],
        _opts: &RenderOptions,
    ) -> Result<Vec<Object>> {
        if !only.is_empty() || !fleet.dashboard {
            return Ok(Vec::new());
        }
        let json = serde_json::to_string_pretty(&dashboard::dashboard(fleet))
            .map_err(|e| Error::Template(format!("the dashboard of fleet {}: {e}", fleet.name)))?;
        let ctx = serde_json::json!({
            "fleet": fleet.name,
            "name": dashboard::config_map_name(&fleet.name),
            "namespace": fleet.namespace,
            "labels": dashboard::config_map_labels(fleet),
            "file": dashboard::file_name(&fleet.name),
            "json": json,
        });
        let name = FLEET_TEMPLATES[0];
        let origin = self.origins.get(name).map_or(name, String::as_str);
        let text = self
            .env
            .get_template(name)
            .and_then(|t| t.render(minijinja::Value::from(minijinja::value::Serde(&ctx))))
            .map_err(|e| template_error(origin, &e))?;
        let mut out = parse_documents(&text, origin, &fleet.name)?;
        // Members of the fleet's ApplySet like the servers' objects, so that
        // `apply --prune` and `delete --all` find them.
        let set = crate::applyset::fleet_id(&fleet.name, &fleet.namespace);
        for o in &mut out {
            crate::applyset::label_member(&mut o.value, &set);
        }
        Ok(out)
    }

    /// Renders every object of one server.
    pub fn render_server(
        &self,
        fleet: &Fleet,
        server: &Server,
        opts: &RenderOptions,
    ) -> Result<Vec<Object>> {
        let ctx = ServerContext::build(fleet, server, opts)?;
        let value = minijinja::Value::from(minijinja::value::Serde(&ctx));
        let mut out = Vec::new();
        for name in templates_for(server) {
            let origin = self.origins.get(name).map_or(name, String::as_str);
            let tmpl = self
                .env
                .get_template(name)
                .map_err(|e| template_error(origin, &e))?;
            let text = tmpl.render(&value).map_err(|e| {
                let mut err = template_error(origin, &e);
                if e.kind() == minijinja::ErrorKind::UndefinedError
                    && let Error::Template(msg) = &mut err
                {
                    msg.push_str(&format!(
                        "\n  hint: the context has: {}",
                        context_keys(&ctx)
                    ));
                }
                err
            })?;
            out.extend(parse_documents(&text, origin, &server.name)?);
        }
        // Every object is a member of the fleet's ApplySet, whatever a
        // template override writes, so that prune and delete find it.
        let set = crate::applyset::fleet_id(&fleet.name, &fleet.namespace);
        for o in &mut out {
            crate::applyset::label_member(&mut o.value, &set);
        }
        Ok(out)
    }
}

/// Top-level names a template can use, for the hint of an undefined-value error.
fn context_keys(ctx: &ServerContext<'_>) -> String {
    match serde_json::to_value(ctx) {
        Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect::<Vec<_>>().join(", "),
        _ => String::new(),
    }
}

/// The servers named in `only` (all when empty), in fleet order; an unknown
/// name is a usage error listing the valid ones.
fn select<'f>(fleet: &'f Fleet, only: &[String]) -> Result<Vec<&'f Server>> {
    fleet.check_servers(only)?;
    Ok(fleet
        .servers
        .iter()
        .filter(|s| only.is_empty() || only.contains(&s.name))
        .collect())
}

/// A template error naming the template file and line.
fn template_error(origin: &str, e: &minijinja::Error) -> Error {
    let mut msg = format!("template {origin}");
    if let Some(line) = e.line() {
        msg.push_str(&format!(", line {line}"));
    }
    msg.push_str(&format!(": {}", e.kind()));
    if let Some(detail) = e.detail() {
        msg.push_str(&format!(": {detail}"));
    }
    // An error raised in an included template names that one.
    if let Some(inner) = e.name() {
        let base = origin.rsplit(['/', '\\']).next().unwrap_or(origin);
        if !base.starts_with(inner) {
            msg.push_str(&format!(" (in {inner})"));
        }
    }
    Error::Template(msg)
}

/// Parses a template's output: zero or more YAML documents, each an object
/// with `apiVersion`, `kind` and `metadata.name`.
fn parse_documents(text: &str, origin: &str, server: &str) -> Result<Vec<Object>> {
    let parsed = match fastyaml::parse_documents(text) {
        Some(docs) => Ok(docs),
        None => serde_saphyr::from_multiple(text),
    };
    let docs: Vec<serde_json::Value> = parsed.map_err(|e| {
        Error::Template(format!(
            "template {origin} produced invalid YAML for server `{server}` \
             (line numbers are of the rendered output): {e}"
        ))
    })?;
    let mut out = Vec::new();
    for doc in docs {
        if doc.is_null() {
            continue;
        }
        let obj = Object { value: doc };
        if !obj.value.is_object()
            || obj.api_version().is_empty()
            || obj.kind().is_empty()
            || obj.name().is_empty()
        {
            return Err(Error::Template(format!(
                "template {origin} produced a document for server `{server}` that is not a Kubernetes object \
                 (apiVersion, kind and metadata.name are required): {}",
                serde_json::to_string(&obj.value).unwrap_or_default()
            )));
        }
        out.push(obj);
    }
    Ok(out)
}

/// Multi-document YAML, each document starting with `---`. Deterministic:
/// the same objects give the same bytes.
pub fn to_yaml(objects: &[Object]) -> String {
    let docs = par_map(objects, object_yaml);
    let mut out = String::with_capacity(docs.iter().map(|d| d.len() + 4).sum());
    for d in docs {
        out.push_str("---\n");
        out.push_str(&d);
    }
    out
}

/// Maps `f` over `items` on up to `available_parallelism` threads (in
/// contiguous chunks), returning results in input order. Small inputs stay on
/// the calling thread.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    const MIN_PER_THREAD: usize = 32;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = threads.min(items.len() / MIN_PER_THREAD).max(1);
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// One object as a YAML document (without the `---` marker).
pub fn object_yaml(o: &Object) -> String {
    emit::document(&o.value)
}

/// Relative path of an object's file under `--output-dir`:
/// `<server>/<kind>-<name>.yaml`, kind in lower case.
pub fn object_file_name(o: &Object) -> PathBuf {
    let server = if o.server().is_empty() {
        "_"
    } else {
        o.server()
    };
    PathBuf::from(server).join(format!(
        "{}-{}.yaml",
        o.kind().to_ascii_lowercase(),
        o.name()
    ))
}

#[cfg(test)]
mod tests;
