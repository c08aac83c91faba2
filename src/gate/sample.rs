//! Taking one analysis sample: every query of [`Spec::queries`] sent to
//! Prometheus at once, each answer kept as it came (value or error) for
//! [`Spec::judge`]. The only I/O of the analysis.

use futures::future::join_all;

use super::analysis::{Reading, Readings, Spec};
use super::prometheus::Client;
use super::query::Vars;

/// Queries Prometheus for one sample. `Err` only when a template does not
/// render (checked at load time, so a bug); Prometheus failures are readings.
pub async fn take(
    client: &Client,
    spec: &Spec,
    canary: &Vars,
    stable: &Vars,
) -> Result<Readings, String> {
    let planned = spec.queries(canary, stable)?;
    let answers = join_all(planned.iter().map(|q| client.query(&q.promql))).await;
    Ok(Readings(
        planned
            .into_iter()
            .zip(answers)
            .map(|(query, result)| Reading { query, result })
            .collect(),
    ))
}
