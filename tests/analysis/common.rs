//! What both analysis test binaries (`tests/analysis`, `tests/analysis_tls.rs`) build on.

use std::time::Duration;

use mcpctl::fleet::NoDataPolicy;
use mcpctl::gate::analysis::{Bound, Metric, Spec};
use mcpctl::gate::query::{self, Vars};

/// Enough for data to show on a loaded machine; a wait ends as soon as its condition holds.
pub const DEADLINE: Duration = Duration::from_secs(90);
/// Ten scrapes: `rate()` over it has data within a couple of seconds.
pub const WINDOW: Duration = Duration::from_secs(10);

/// The variables of one track, sampled every second over [`WINDOW`].
pub fn vars(namespace: &str, server: &str, track: &str) -> Vars {
    Vars {
        server: server.into(),
        namespace: namespace.into(),
        track: track.into(),
        version: if track == "canary" { "2.0.0" } else { "1.0.0" }.into(),
        interval: Duration::from_secs(1),
        window: WINDOW,
    }
}

/// The built-in error rate against `max_error_rate`, 20 requests at least, failure limit 1.
pub fn spec(max_error_rate: f64, no_data: NoDataPolicy) -> Spec {
    Spec {
        requests_query: query::requests_template(),
        min_requests: 20,
        metrics: vec![Metric {
            name: "error-rate".into(),
            query: query::error_rate_template(),
            bound: Bound::Max(max_error_rate),
            baseline: None,
        }],
        no_data,
        failure_limit: 1,
    }
}

pub fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}
