//! The fleet's Grafana dashboard against the real Prometheus: every panel's PromQL, taken
//! from the rendered ConfigMap and interpolated as Grafana does (`$server` with every server
//! chosen, `$__rate_interval`), runs without error and reads the series the metrics endpoint
//! serves with the ServiceMonitor's labels; and the JSON has the shape Grafana loads.

use std::collections::BTreeSet;

use mcpctl::render::{RenderOptions, Renderer};
use serde_json::Value;
use test_prometheus::{Prometheus, Traffic};

use crate::common::DEADLINE;

const NS: &str = "dashboard";
const SERVERS: [&str; 2] = ["dash-a", "dash-b"];
/// What Grafana puts for `$__rate_interval` with a 1 s scrape: here, ten scrapes.
const RATE_INTERVAL: &str = "10s";

fn fleet() -> mcpctl::fleet::Fleet {
    let mut y = format!("fleet: dash\nnamespace: {NS}\nservers:\n");
    for s in SERVERS {
        y.push_str(&format!(
            "  - name: {s}\n    image: ghcr.io/acme/{s}:1.0.0\n"
        ));
    }
    mcpctl::fleet::load_str(&y, std::path::Path::new("dash.yaml"))
        .unwrap_or_else(|e| panic!("{e}"))
        .fleet
}

/// The dashboard JSON as the Grafana sidecar reads it from the rendered ConfigMap.
fn rendered_dashboard() -> Value {
    let objs = Renderer::new(None)
        .unwrap()
        .render_fleet_objects(&fleet(), &[], &RenderOptions::default())
        .unwrap();
    assert_eq!(objs.len(), 1, "{objs:?}");
    let cm = &objs[0].value;
    assert_eq!(cm["kind"], "ConfigMap");
    assert_eq!(cm["metadata"]["labels"]["grafana_dashboard"], "1");
    let data = cm["data"].as_object().unwrap();
    assert_eq!(data.len(), 1, "{data:?}");
    let (file, text) = data.iter().next().unwrap();
    assert!(file.ends_with(".json"), "{file}");
    serde_json::from_str(text.as_str().unwrap()).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Every (panel title, expr) of the dashboard.
fn exprs(d: &Value) -> Vec<(String, String)> {
    d["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| {
            p["targets"].as_array().unwrap().iter().map(move |t| {
                (
                    p["title"].as_str().unwrap().to_string(),
                    t["expr"].as_str().unwrap().to_string(),
                )
            })
        })
        .collect()
}

/// Grafana's interpolation for a Prometheus data source: a multi-value variable with several
/// values becomes the regex `(a|b)`; `$__rate_interval` a range.
fn interpolate(expr: &str) -> String {
    let servers = format!("({})", SERVERS.join("|"));
    let out = expr
        .replace("$__rate_interval", RATE_INTERVAL)
        .replace("${server}", &servers)
        .replace("$server", &servers);
    assert!(!out.contains('$'), "a variable left uninterpolated: {out}");
    out
}

#[test]
fn the_dashboard_is_grafana_dashboard_json() {
    let d = rendered_dashboard();
    assert_eq!(d["title"], "MCP fleet dash");
    assert!(
        d["uid"]
            .as_str()
            .is_some_and(|u| !u.is_empty() && u.len() <= 40)
    );
    assert!(d["schemaVersion"].as_u64().is_some_and(|v| v >= 36));
    let vars = d["templating"]["list"].as_array().unwrap();
    let ds = vars.iter().find(|v| v["name"] == "datasource").unwrap();
    assert_eq!(ds["type"], "datasource");
    assert_eq!(ds["query"], "prometheus");
    let server = vars.iter().find(|v| v["name"] == "server").unwrap();
    assert_eq!(server["query"], SERVERS.join(","));
    assert_eq!(server["multi"], true);
    assert_eq!(server["includeAll"], true);
    let panels = d["panels"].as_array().unwrap();
    let titles: Vec<&str> = panels
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    for wanted in [
        "Request rate",
        "Error rate (HTTP 5xx or JSON-RPC error)",
        "p95 latency",
        "Active sessions",
        "Canary weight (share of requests)",
    ] {
        assert!(titles.contains(&wanted), "no panel {wanted}: {titles:?}");
    }
    let ids: BTreeSet<u64> = panels.iter().map(|p| p["id"].as_u64().unwrap()).collect();
    assert_eq!(ids.len(), panels.len(), "panel ids repeat");
    for p in panels {
        assert_eq!(p["type"], "timeseries", "{p}");
        assert_eq!(p["datasource"]["uid"], "${datasource}", "{p}");
        for k in ["h", "w", "x", "y"] {
            assert!(p["gridPos"][k].is_u64(), "{k} of {p}");
        }
        let targets = p["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{p}");
        let refs: BTreeSet<&str> = targets
            .iter()
            .map(|t| t["refId"].as_str().unwrap())
            .collect();
        assert_eq!(refs.len(), targets.len(), "refIds repeat in {p}");
        for t in targets {
            assert_eq!(t["datasource"]["uid"], "${datasource}", "{t}");
            assert!(
                t["expr"]
                    .as_str()
                    .is_some_and(|e| e.contains("namespace=\"dashboard\"")),
                "{t}"
            );
        }
    }
}

/// Every panel's query runs on the real Prometheus and reads the harness's series.
#[test]
fn every_panel_query_runs_on_prometheus_and_reads_the_fleets_series() {
    let prom = Prometheus::shared();
    // A query Grafana has not interpolated is an error: the check below can fail.
    assert!(
        prom.query("sum(rate(mcp_requests_total[$__rate_interval]))")
            .is_err(),
        "Prometheus accepted an uninterpolated Grafana variable"
    );
    let traffic = |rps, http_errors, jsonrpc_errors| Traffic {
        rps,
        http_errors,
        jsonrpc_errors,
    };
    prom.set_traffic(NS, "dash-a", "canary", traffic(20.0, 0.1, 0.05));
    prom.set_traffic(NS, "dash-a", "stable", traffic(40.0, 0.0, 0.0));
    prom.set_traffic(NS, "dash-b", "stable", traffic(10.0, 0.0, 0.0));
    prom.set_latency(NS, "dash-a", "canary", 20.0, 0.3);
    prom.set_latency(NS, "dash-a", "stable", 40.0, 0.08);
    prom.set_latency(NS, "dash-b", "stable", 10.0, 0.08);
    prom.set_sessions(NS, "dash-a", "canary", 5.0);
    prom.set_sessions(NS, "dash-a", "stable", 7.0);
    prom.set_sessions(NS, "dash-b", "stable", 2.0);

    let d = rendered_dashboard();
    let all = exprs(&d);
    assert!(all.len() >= 6, "{all:?}");
    let mut read = std::collections::BTreeMap::new();
    for (title, expr) in &all {
        let q = interpolate(expr);
        if let Err(e) = prom.query(&q) {
            panic!("panel {title:?}: the query fails on Prometheus: {e}\n{q}");
        }
        let v = prom.wait_for(&format!("data in panel {title:?}"), &q, DEADLINE, |v| {
            !v.is_empty() && v.iter().all(|x| x.is_finite())
        });
        read.entry(title.clone()).or_insert(v);
    }
    let sorted = |t: &str| {
        let mut v: Vec<f64> = read[t].clone();
        v.sort_by(f64::total_cmp);
        v
    };
    // One series per server and track: dash-a's canary and stable, dash-b's stable.
    let errors = sorted("Error rate (HTTP 5xx or JSON-RPC error)");
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert_eq!(&errors[..2], &[0.0, 0.0], "{errors:?}");
    assert!(
        (errors[2] - 0.15).abs() < 0.02,
        "5xx 10% + JSON-RPC 5%: {errors:?}"
    );
    let weight = sorted("Canary weight (share of requests)");
    assert_eq!(weight.len(), 1, "only dash-a has a canary: {weight:?}");
    assert!((weight[0] - 20.0 / 60.0).abs() < 0.03, "{weight:?}");
    assert_eq!(sorted("Active sessions"), vec![2.0, 5.0, 7.0]);
    let p95 = sorted("p95 latency");
    assert_eq!(p95.len(), 3, "{p95:?}");
    assert!(
        p95[2] > 0.25 && p95[2] <= 0.5,
        "the canary's 0.3 s: {p95:?}"
    );
    assert!(
        p95[0] > 0.05 && p95[0] <= 0.1,
        "the stable tracks' 0.08 s: {p95:?}"
    );
    assert_eq!(read["Request rate"].len(), 3, "{:?}", read["Request rate"]);
    // A rate over a window older than the series reads low at first: wait for the full one.
    let (_, rate) = all.iter().find(|(t, _)| t == "Request rate").unwrap();
    prom.wait_for(
        "dash-a's stable 40 requests/s",
        &interpolate(rate),
        DEADLINE,
        |v| v.iter().any(|x| (x - 40.0).abs() < 4.0),
    );
}
