//! The fleet's Grafana dashboard: request rate, error rate, p95 latency and active
//! sessions per server and per track/colour, and the canary's share of the traffic. It is
//! rendered as a ConfigMap labelled `grafana_dashboard: "1"`, which the Grafana sidecar
//! (kiwigrid k8s-sidecar, as the Grafana Helm chart and kube-prometheus-stack run it) loads.
//!
//! Every query is built from the same names and query pieces as the ServiceMonitor's
//! relabelling, the PrometheusRule and the canary analysis ([`super::context::metrics`],
//! [`crate::gate::query`]), so the dashboard reads exactly the series those produce. The
//! queries use Grafana's `$server` (a multi-value variable listing the fleet's servers) and
//! `$__rate_interval`; the data source is the `datasource` variable.

use serde_json::{Value, json};

use super::context::{Labels, labels, metrics};
use crate::fleet::Fleet;
use crate::gate::query;

/// Label the Grafana sidecar selects dashboard ConfigMaps by, and its value.
pub const SIDECAR_LABEL: &str = "grafana_dashboard";
pub const SIDECAR_VALUE: &str = "1";
/// Grafana's dashboard JSON schema version the panels are written for (Grafana 10.4/11).
const SCHEMA_VERSION: u32 = 39;
/// Grafana limits a dashboard uid to 40 characters.
const MAX_UID: usize = 40;
/// The range every `rate()` of the dashboard uses: Grafana picks it from the scrape interval.
pub const RATE_RANGE: &str = "$__rate_interval";

/// The ConfigMap's name.
pub fn config_map_name(fleet: &str) -> String {
    format!("mcpctl-dashboard-{fleet}")
}

/// The key of the dashboard file in the ConfigMap.
pub fn file_name(fleet: &str) -> String {
    format!("mcp-{fleet}.json")
}

/// Labels of the ConfigMap: the fleet's, and the sidecar's.
pub fn config_map_labels(fleet: &Fleet) -> Labels {
    let mut l = Labels::new();
    l.insert(labels::MANAGED_BY.into(), labels::MANAGER.into());
    l.insert(labels::PART_OF.into(), fleet.name.clone());
    l.insert(labels::COMPONENT.into(), "dashboard".into());
    l.insert(SIDECAR_LABEL.into(), SIDECAR_VALUE.into());
    l
}

/// A stable uid from the fleet name, within Grafana's limit.
fn uid(fleet: &str) -> String {
    let uid = format!("mcpctl-{fleet}");
    if uid.len() <= MAX_UID {
        return uid;
    }
    let hash = fleet.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{}-{:08x}", &uid[..MAX_UID - 9], hash as u32)
}

/// The label matchers of every panel: the fleet's namespace, the servers chosen in `$server`.
fn selector(fleet: &Fleet) -> String {
    format!(
        "namespace=\"{}\",{}=~\"$server\"",
        fleet.namespace,
        metrics::SERVER_LABEL
    )
}

/// `by (…)` labels: per server and per track or colour.
fn per_track() -> String {
    format!(
        "{}, {}, {}",
        metrics::SERVER_LABEL,
        metrics::TRACK_LABEL,
        metrics::COLOUR_LABEL
    )
}

/// The legend of a per-track series: `github canary`, `postgres blue`.
fn per_track_legend() -> String {
    format!(
        "{{{{{}}}}} {{{{{}}}}}{{{{{}}}}}",
        metrics::SERVER_LABEL,
        metrics::TRACK_LABEL,
        metrics::COLOUR_LABEL
    )
}

/// One query of a panel.
struct Target {
    expr: String,
    legend: String,
}

struct Panel {
    title: &'static str,
    description: &'static str,
    unit: &'static str,
    max: Option<f64>,
    targets: Vec<Target>,
}

/// The panels, in order.
fn panels(fleet: &Fleet) -> Vec<Panel> {
    let sel = selector(fleet);
    let by = per_track();
    let legend = per_track_legend;
    let requests = format!("sum by ({by}) ({})", query::request_rate(&sel, RATE_RANGE));
    vec![
        Panel {
            title: "Request rate",
            description: "MCP requests per second, per server and track or colour.",
            unit: "reqps",
            max: None,
            targets: vec![Target {
                expr: requests.clone(),
                legend: legend(),
            }],
        },
        Panel {
            title: "Error rate (HTTP 5xx or JSON-RPC error)",
            description: "Share of requests that failed with HTTP 5xx or a JSON-RPC error, \
                          counted once, as the canary analysis counts them; 0 when none failed.",
            unit: "percentunit",
            max: Some(1.0),
            targets: vec![Target {
                expr: format!(
                    "(sum by ({by}) ({}) or 0 * {requests}) / {requests}",
                    query::failed_rate(&sel, RATE_RANGE)
                ),
                legend: legend(),
            }],
        },
        Panel {
            title: "Errors by kind",
            description: "Failed requests per second: HTTP 5xx, and JSON-RPC errors \
                          (which arrive inside HTTP 200).",
            unit: "reqps",
            max: None,
            targets: vec![
                Target {
                    expr: format!(
                        "sum by ({by}) ({})",
                        query::http_error_rate(&sel, RATE_RANGE)
                    ),
                    legend: format!("{} HTTP 5xx", legend()),
                },
                Target {
                    expr: format!(
                        "sum by ({by}) ({})",
                        query::jsonrpc_error_rate(&sel, RATE_RANGE)
                    ),
                    legend: format!("{} JSON-RPC", legend()),
                },
            ],
        },
        Panel {
            title: "p95 latency",
            description: "95th percentile of the request duration, per server and track or colour.",
            unit: "s",
            max: None,
            targets: vec![Target {
                expr: format!(
                    "histogram_quantile(0.95, sum by (le, {by}) ({}))",
                    query::duration_bucket_rate(&sel, RATE_RANGE)
                ),
                legend: legend(),
            }],
        },
        Panel {
            title: "Active sessions",
            description: "MCP sessions held open (legacy 2025-11-25 servers), per server and \
                          track or colour.",
            unit: "short",
            max: None,
            targets: vec![Target {
                expr: format!("sum by ({by}) ({}{{{sel}}})", metrics::ACTIVE_SESSIONS),
                legend: legend(),
            }],
        },
        Panel {
            title: "Canary weight (share of requests)",
            description: "Share of each canary server's requests served by its canary track: \
                          the weight traffic actually follows.",
            unit: "percentunit",
            max: Some(1.0),
            targets: vec![Target {
                expr: format!(
                    "sum by ({s}) ({canary}) / sum by ({s}) ({all})",
                    s = metrics::SERVER_LABEL,
                    canary = query::request_rate(
                        &format!("{sel},{}=\"canary\"", metrics::TRACK_LABEL),
                        RATE_RANGE
                    ),
                    all = query::request_rate(&sel, RATE_RANGE),
                ),
                legend: format!("{{{{{}}}}}", metrics::SERVER_LABEL),
            }],
        },
    ]
}

/// The dashboard JSON (Grafana's dashboard model).
pub fn dashboard(fleet: &Fleet) -> Value {
    let datasource = json!({"type": "prometheus", "uid": "${datasource}"});
    let panels: Vec<Value> = panels(fleet)
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let targets: Vec<Value> = p
                .targets
                .iter()
                .enumerate()
                .map(|(j, t)| {
                    json!({
                        "datasource": datasource,
                        "refId": ((b'A' + j as u8) as char).to_string(),
                        "expr": t.expr,
                        "legendFormat": t.legend,
                        "range": true,
                    })
                })
                .collect();
            let mut defaults = json!({"unit": p.unit, "min": 0});
            if let Some(max) = p.max {
                defaults["max"] = json!(max);
            }
            json!({
                "id": i + 1,
                "type": "timeseries",
                "title": p.title,
                "description": p.description,
                "datasource": datasource,
                "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i / 2) * 8},
                "fieldConfig": {"defaults": defaults, "overrides": []},
                "options": {
                    "legend": {"displayMode": "list", "placement": "bottom", "showLegend": true},
                    "tooltip": {"mode": "multi", "sort": "desc"},
                },
                "targets": targets,
            })
        })
        .collect();
    let servers: Vec<&str> = fleet.servers.iter().map(|s| s.name.as_str()).collect();
    json!({
        "uid": uid(&fleet.name),
        "title": format!("MCP fleet {}", fleet.name),
        "description": format!(
            "MCP servers of fleet {} in namespace {} (rendered by mcpctl)",
            fleet.name, fleet.namespace
        ),
        "tags": ["mcp", "mcpctl"],
        "editable": true,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"},
        "timezone": "browser",
        "annotations": {"list": []},
        "templating": {"list": [
            {
                "name": "datasource",
                "label": "Data source",
                "type": "datasource",
                "query": "prometheus",
                "current": {},
                "hide": 0,
            },
            {
                "name": "server",
                "label": "Server",
                "type": "custom",
                "query": servers.join(","),
                "multi": true,
                "includeAll": true,
                "current": {"selected": true, "text": ["All"], "value": ["$__all"]},
                "options": [],
                "hide": 0,
            },
        ]},
        "panels": panels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_fits_grafanas_limit_and_stays_distinct() {
        assert_eq!(uid("acme"), "mcpctl-acme");
        let long = "a".repeat(63);
        let other = format!("{}b", "a".repeat(62));
        assert_eq!(uid(&long).len(), MAX_UID);
        assert_ne!(uid(&long), uid(&other));
    }

    #[test]
    fn error_rate_counts_what_the_analysis_counts() {
        let f = crate::fleet::testing::fleet(
            "acme",
            vec![crate::fleet::testing::server("github", "x/github:1")],
        );
        let d = dashboard(&f);
        let expr = d["panels"][1]["targets"][0]["expr"].as_str().unwrap();
        assert!(
            expr.contains("rate(mcp_requests_total{namespace=\"mcp\",mcp_server=~\"$server\",code=~\"5..\"}[$__rate_interval]) or rate(mcp_requests_total{namespace=\"mcp\",mcp_server=~\"$server\",jsonrpc_error=\"true\"}[$__rate_interval])"),
            "{expr}"
        );
        assert_eq!(d["templating"]["list"][1]["query"], "github");
    }
}
