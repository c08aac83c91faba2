//! PromQL query templates for the canary analysis, and the built-in queries.
//!
//! A template is PromQL with `{{ name }}` placeholders for the variables of
//! [`Vars`]: `server`, `namespace`, `track`, `version`, `interval` and
//! `window`. Rendering is strict: an unknown placeholder is an error that names
//! it and the variables on offer, so that a typo in a fleet file is found by
//! `validate` and `--dry-run`, not by an empty result during a rollout.
//!
//! The built-in queries read what mcpctl's own ServiceMonitor produces (see
//! `render::context::metrics` and the README's metrics section):
//! `mcp_requests_total` with the `mcp_server`, `track` and `namespace` labels,
//! `code` (HTTP status) and `jsonrpc_error="true"` on requests whose answer
//! was a JSON-RPC error (those arrive inside HTTP 200).

use std::time::Duration;

use crate::render::context::metrics;

/// The variables a template may use.
pub const VARIABLES: &[&str] = &[
    "server",
    "namespace",
    "track",
    "version",
    "interval",
    "window",
];

/// Label (value `"true"`) a server puts on `mcp_requests_total` for a request
/// answered with a JSON-RPC error.
pub const JSONRPC_ERROR_LABEL: &str = "jsonrpc_error";

/// Values of the template variables for one track of one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vars {
    pub server: String,
    pub namespace: String,
    /// `canary` or `stable`.
    pub track: String,
    /// The version (`app.kubernetes.io/version`) the track runs.
    pub version: String,
    /// The analysis interval, for queries that want it.
    pub interval: Duration,
    /// The range of `rate()`/`increase()`: how far back a sample looks.
    pub window: Duration,
}

impl Vars {
    /// The variables of one track of a fleet server, with the interval and
    /// window of its `canary.analysis`.
    pub fn new(namespace: &str, server: &crate::fleet::Server, track: &str, version: &str) -> Vars {
        Vars {
            server: server.name.clone(),
            namespace: namespace.to_string(),
            track: track.to_string(),
            version: version.to_string(),
            interval: server.canary.analysis.interval,
            window: server.canary.analysis.window,
        }
    }

    /// The same variables for another track (the stable baseline).
    pub fn for_track(&self, track: &str, version: &str) -> Vars {
        Vars {
            track: track.to_string(),
            version: version.to_string(),
            ..self.clone()
        }
    }

    fn get(&self, name: &str) -> Option<String> {
        Some(match name {
            "server" => self.server.clone(),
            "namespace" => self.namespace.clone(),
            "track" => self.track.clone(),
            "version" => self.version.clone(),
            "interval" => crate::fleet::duration::format(self.interval),
            "window" => crate::fleet::duration::format(self.window),
            _ => return None,
        })
    }
}

/// Fills the placeholders of `template` with `vars`.
pub fn render(template: &str, vars: &Vars) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(format!(
                "query template has `{{{{` without a closing `}}}}`: {template:?}"
            ));
        };
        let name = after[..end].trim();
        match vars.get(name) {
            Some(v) => out.push_str(&v),
            None => return Err(unknown(name)),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Checks a template without values: every placeholder must be a known
/// variable and closed. For fleet file validation.
pub fn check(template: &str) -> Result<(), String> {
    let probe = Vars {
        server: String::new(),
        namespace: String::new(),
        track: String::new(),
        version: String::new(),
        interval: Duration::from_secs(1),
        window: Duration::from_secs(1),
    };
    render(template, &probe).map(|_| ())
}

fn unknown(name: &str) -> String {
    let hint = strsim_closest(name)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default();
    format!(
        "unknown variable `{{{{ {name} }}}}` in a query template{hint}; the variables are: {}",
        VARIABLES.join(", ")
    )
}

fn strsim_closest(name: &str) -> Option<&'static str> {
    VARIABLES
        .iter()
        .map(|v| (*v, strsim::damerau_levenshtein(name, v)))
        .filter(|(_, d)| *d <= 2)
        .min_by_key(|(_, d)| *d)
        .map(|(v, _)| v)
}

/// The label matchers every built-in query selects one track of one server by.
fn selector() -> String {
    format!(
        "namespace=\"{{{{ namespace }}}}\",{}=\"{{{{ server }}}}\",track=\"{{{{ track }}}}\"",
        metrics::SERVER_LABEL
    )
}

/// Per-second rate of the requests matching `sel` (PromQL label matchers) over `range`.
pub fn request_rate(sel: &str, range: &str) -> String {
    format!("rate({}{{{sel}}}[{range}])", metrics::REQUESTS)
}

/// Per-second rate of the failed requests matching `sel` over `range`, one series per
/// failing series: HTTP 5xx, or a JSON-RPC error (whatever the HTTP status). `or` takes the
/// union of the two sets of series without counting a series twice.
pub fn failed_rate(sel: &str, range: &str) -> String {
    format!(
        "{} or {}",
        http_error_rate(sel, range),
        jsonrpc_error_rate(sel, range)
    )
}

/// Per-second rate of the requests matching `sel` answered with HTTP 5xx.
pub fn http_error_rate(sel: &str, range: &str) -> String {
    request_rate(&format!("{sel},code=~\"5..\""), range)
}

/// Per-second rate of the requests matching `sel` answered with a JSON-RPC error.
pub fn jsonrpc_error_rate(sel: &str, range: &str) -> String {
    request_rate(&format!("{sel},{JSONRPC_ERROR_LABEL}=\"true\""), range)
}

/// Per-second rate of the latency histogram's buckets matching `sel` over `range`.
pub fn duration_bucket_rate(sel: &str, range: &str) -> String {
    format!("rate({}{{{sel}}}[{range}])", metrics::DURATION_BUCKET)
}

const WINDOW: &str = "{{ window }}";

/// Requests the track answered in the window: the `minRequests` check.
pub fn requests_template() -> String {
    format!(
        "sum(increase({req}{{{sel}}}[{WINDOW}]))",
        req = metrics::REQUESTS,
        sel = selector()
    )
}

/// Share of the track's requests in the window that failed ([`failed_rate`]); `or
/// vector(0)` makes a track with no failed request at all read 0, not "no data"; a track
/// with no request at all gives an empty result or 0/0 = NaN, both "no data".
pub fn error_rate_template() -> String {
    let sel = selector();
    format!(
        "(sum({}) or vector(0)) / sum({})",
        failed_rate(&sel, WINDOW),
        request_rate(&sel, WINDOW)
    )
}

/// 95th percentile request latency of the track over the window, in seconds:
/// an example of a second metric (`max: 2` for two seconds).
pub fn p95_latency_template() -> String {
    format!(
        "histogram_quantile(0.95, sum by (le) ({}))",
        duration_bucket_rate(&selector(), WINDOW)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        Vars {
            server: "github".into(),
            namespace: "mcp".into(),
            track: "canary".into(),
            version: "1.4.2".into(),
            interval: Duration::from_secs(30),
            window: Duration::from_secs(120),
        }
    }

    #[test]
    fn render_fills_every_variable() {
        let t = "{{server}} {{ namespace }} {{  track }} {{version}} {{ interval }} {{ window }}";
        assert_eq!(
            render(t, &vars()).unwrap(),
            "github mcp canary 1.4.2 30s 2m"
        );
    }

    #[test]
    fn render_leaves_promql_braces_alone() {
        let t = "sum(rate(x{a=\"b\",s=\"{{ server }}\"}[5m]))";
        assert_eq!(
            render(t, &vars()).unwrap(),
            "sum(rate(x{a=\"b\",s=\"github\"}[5m]))"
        );
    }

    #[test]
    fn unknown_variable_is_named_with_a_suggestion() {
        let e = render("x{s=\"{{ sever }}\"}", &vars()).unwrap_err();
        assert!(e.contains("`{{ sever }}`"), "{e}");
        assert!(e.contains("did you mean `server`"), "{e}");
        assert!(
            e.contains("server, namespace, track, version, interval, window"),
            "{e}"
        );
        let e = check("{{ colour }}").unwrap_err();
        assert!(!e.contains("did you mean"), "{e}");
    }

    #[test]
    fn unclosed_placeholder_is_an_error() {
        let e = check("x{s=\"{{ server\"}").unwrap_err();
        assert!(e.contains("without a closing"), "{e}");
    }

    #[test]
    fn vars_of_a_fleet_server_take_its_interval_and_window() {
        let mut s = crate::fleet::testing::server("github", "x/github:2");
        s.canary.analysis.interval = Duration::from_secs(5);
        s.canary.analysis.window = Duration::from_secs(90);
        let v = Vars::new("mcp", &s, "canary", "2");
        assert_eq!(
            render("{{ server }} {{ namespace }} {{ track }} {{ version }} {{ interval }} {{ window }}", &v).unwrap(),
            "github mcp canary 2 5s 1m30s"
        );
    }

    #[test]
    fn for_track_changes_only_track_and_version() {
        let s = vars().for_track("stable", "1.4.1");
        assert_eq!(s.track, "stable");
        assert_eq!(s.version, "1.4.1");
        assert_eq!(s.server, "github");
        assert_eq!(s.window, Duration::from_secs(120));
    }

    #[test]
    fn built_in_templates_render_to_the_servicemonitor_labels() {
        assert_eq!(
            render(&requests_template(), &vars()).unwrap(),
            "sum(increase(mcp_requests_total{namespace=\"mcp\",mcp_server=\"github\",track=\"canary\"}[2m]))"
        );
        assert_eq!(
            render(&error_rate_template(), &vars()).unwrap(),
            "(sum(rate(mcp_requests_total{namespace=\"mcp\",mcp_server=\"github\",track=\"canary\",code=~\"5..\"}[2m]) \
             or rate(mcp_requests_total{namespace=\"mcp\",mcp_server=\"github\",track=\"canary\",jsonrpc_error=\"true\"}[2m])) \
             or vector(0)) / sum(rate(mcp_requests_total{namespace=\"mcp\",mcp_server=\"github\",track=\"canary\"}[2m]))"
        );
        assert!(
            render(&p95_latency_template(), &vars())
                .unwrap()
                .starts_with("histogram_quantile(0.95, sum by (le) (rate(mcp_request_duration_seconds_bucket{namespace=\"mcp\",")
        );
    }
}
