//! The canary analysis: what a sample of Prometheus readings means, and when
//! the failed samples add up to an abort. Pure: the readings come in as values
//! (see [`super::sample`] for taking them), so every rule is unit-tested here.
//!
//! The rules, in the order a sample is judged (the README lists them too):
//!
//! 1. Every query of the sample that did not give one usable value because of
//!    Prometheus — unreachable, timeout, HTTP 4xx/5xx, `status: error` (a bad
//!    query), a response that is not the API's, a matrix or string result, or
//!    **more than one series** where one is expected — is a *query error*, and
//!    a query error makes the sample **fail**. It is never a pass and never
//!    "no data".
//! 2. When the canary answered fewer than `minRequests` requests in the
//!    window (or the request count is empty, NaN or infinite), the sample is
//!    **no data**, whatever the metrics say (a query error still fails it):
//!    a rate over three requests proves nothing.
//! 3. Each metric is judged on its own: an empty vector, NaN, `+Inf` or
//!    `-Inf` is *no data* for that metric; a value above its `max` (below its
//!    `min`) fails. With a baseline, the canary's limit is the larger of the
//!    metric's `max` and what the stable track measured in the same sample
//!    plus `maxIncrease` (or times `maxRatio`): the canary fails only when it
//!    is worse than both the absolute threshold and the stable track. When the
//!    stable track has no data (too few requests, empty, NaN), the absolute
//!    threshold alone applies.
//! 4. With requests enough, a sample with a failing metric fails; else a
//!    sample with a metric without data is no data; else it passes.
//! 5. The `noData` policy says what a no-data sample counts as: `fail`
//!    (default), `pass`, or `ignore` (counted as neither).
//! 6. `failureLimit` is the number of failed samples (counting no-data
//!    samples under `noData: fail`) that abort the rollout; they need not be
//!    consecutive. The abort is decided at the sample that reaches it, so
//!    the caller can restore traffic at once, not at the end of the step.
//!
//! Use:
//!
//! ```no_run
//! # async fn f(client: &mcpctl::gate::prometheus::Client, fleet: &mcpctl::fleet::Analysis,
//! #            canary: mcpctl::gate::query::Vars, stable: mcpctl::gate::query::Vars) {
//! use mcpctl::gate::analysis::{Analysis, Decision, Spec};
//! let mut analysis = Analysis::new(Spec::from_fleet(fleet).unwrap());
//! loop {
//!     let readings = mcpctl::gate::sample::take(client, analysis.spec(), &canary, &stable).await.unwrap();
//!     let sample = analysis.spec().judge(&readings);
//!     // show `sample` (each check: query, value, threshold, outcome)
//!     if let Decision::Abort(why) = analysis.observe(sample) {
//!         // route 100% to stable first, then report `why`
//!         break;
//!     }
//!     // wait for the next interval, or end the step
//! }
//! # }
//! ```

use std::fmt;

use super::prometheus::{QueryError, QueryResult};
use super::query;
use crate::fleet::{self, NoDataPolicy};

pub use crate::fleet::{Baseline, Bound};

/// One metric of the analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// A short name for reports (`error-rate`, `p95-latency`).
    pub name: String,
    /// Query template (see [`query`]); must give one series or a scalar.
    pub query: String,
    pub bound: Bound,
    /// Only with [`Bound::Max`].
    pub baseline: Option<Baseline>,
}

/// What the analysis checks and how it decides.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Template counting the requests of a track in the window.
    pub requests_query: String,
    pub min_requests: u32,
    pub metrics: Vec<Metric>,
    pub no_data: NoDataPolicy,
    /// At least 1.
    pub failure_limit: u32,
}

impl Spec {
    /// The analysis of a fleet file's `canary.analysis`: the error rate (the
    /// fleet's query or the built-in one) against `maxErrorRate` and the
    /// optional baseline, then the fleet's further `metrics`.
    pub fn from_fleet(a: &fleet::Analysis) -> Result<Spec, String> {
        let error_rate = Metric {
            name: "error-rate".into(),
            query: a.query.clone().unwrap_or_else(query::error_rate_template),
            bound: Bound::Max(a.max_error_rate),
            baseline: a.baseline,
        };
        let spec = Spec {
            requests_query: query::requests_template(),
            min_requests: a.min_requests,
            metrics: std::iter::once(error_rate)
                .chain(a.metrics.iter().map(|m| Metric {
                    name: m.name.clone(),
                    query: m.query.clone(),
                    bound: m.bound,
                    baseline: m.baseline,
                }))
                .collect(),
            no_data: a.no_data,
            failure_limit: a.failure_limit,
        };
        spec.check()?;
        Ok(spec)
    }

    /// Checks the templates and the thresholds.
    pub fn check(&self) -> Result<(), String> {
        if self.failure_limit == 0 {
            return Err("failureLimit must be at least 1".into());
        }
        if self.metrics.is_empty() {
            return Err("an analysis needs at least one metric".into());
        }
        query::check(&self.requests_query).map_err(|e| format!("requests query: {e}"))?;
        for m in &self.metrics {
            query::check(&m.query).map_err(|e| format!("metric `{}`: {e}", m.name))?;
            let t = match m.bound {
                Bound::Max(t) | Bound::Min(t) => t,
            };
            if !t.is_finite() {
                return Err(format!(
                    "metric `{}`: the threshold must be a finite number",
                    m.name
                ));
            }
            match (m.bound, m.baseline) {
                (Bound::Min(_), Some(_)) => {
                    return Err(format!(
                        "metric `{}`: a baseline comparison needs a `max` threshold",
                        m.name
                    ));
                }
                (_, Some(Baseline::Increase(d))) if !(d.is_finite() && d >= 0.0) => {
                    return Err(format!("metric `{}`: maxIncrease must be ≥ 0", m.name));
                }
                (_, Some(Baseline::Ratio(r))) if !(r.is_finite() && r >= 1.0) => {
                    return Err(format!("metric `{}`: maxRatio must be ≥ 1", m.name));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Whether a sample needs the stable track's readings.
    pub fn uses_baseline(&self) -> bool {
        self.metrics.iter().any(|m| m.baseline.is_some())
    }

    /// Every query of a sample with its variables filled in, in the order
    /// [`Readings`] holds them: canary requests, then each metric for the
    /// canary; with a baseline, stable requests and each baselined metric for
    /// the stable track. For `--dry-run` and for taking the sample.
    pub fn queries(
        &self,
        canary: &query::Vars,
        stable: &query::Vars,
    ) -> Result<Vec<PlannedQuery>, String> {
        let mut out = vec![PlannedQuery {
            role: Role::Requests,
            track: Track::Canary,
            promql: query::render(&self.requests_query, canary)?,
        }];
        for (i, m) in self.metrics.iter().enumerate() {
            out.push(PlannedQuery {
                role: Role::Metric(i),
                track: Track::Canary,
                promql: query::render(&m.query, canary)
                    .map_err(|e| format!("metric `{}`: {e}", m.name))?,
            });
        }
        if self.uses_baseline() {
            out.push(PlannedQuery {
                role: Role::Requests,
                track: Track::Stable,
                promql: query::render(&self.requests_query, stable)?,
            });
            for (i, m) in self.metrics.iter().enumerate() {
                if m.baseline.is_some() {
                    out.push(PlannedQuery {
                        role: Role::Metric(i),
                        track: Track::Stable,
                        promql: query::render(&m.query, stable)
                            .map_err(|e| format!("metric `{}`: {e}", m.name))?,
                    });
                }
            }
        }
        Ok(out)
    }

    /// Judges one sample (rules 1–4 of the module docs).
    pub fn judge(&self, r: &Readings) -> Sample {
        let min = f64::from(self.min_requests);
        let mut checks = Vec::new();
        let canary_requests = r.get(Role::Requests, Track::Canary).map(Reading::single);
        let enough_requests = match &canary_requests {
            Some(Ok(Some(n))) => *n >= min,
            _ => false,
        };
        checks.push(Check {
            name: "requests".into(),
            track: Track::Canary,
            query: r.promql(Role::Requests, Track::Canary),
            value: canary_requests
                .as_ref()
                .and_then(|v| v.clone().ok().flatten()),
            threshold: Some(Threshold::Min(min)),
            outcome: match canary_requests {
                None => Outcome::Error(missing("requests", Track::Canary)),
                Some(Err(e)) => Outcome::Error(e),
                Some(Ok(None)) => {
                    Outcome::NoData("no request count (empty or not a number)".into())
                }
                Some(Ok(Some(n))) if n < min => Outcome::NoData(format!(
                    "{} requests in the window, fewer than minRequests {}",
                    fmt_num(n),
                    self.min_requests
                )),
                Some(Ok(Some(_))) => Outcome::Pass,
            },
        });
        let stable_enough = if self.uses_baseline() {
            match r.get(Role::Requests, Track::Stable).map(Reading::single) {
                Some(Ok(Some(n))) => Ok(n >= min),
                Some(Ok(None)) => Ok(false),
                Some(Err(e)) => Err(e),
                None => Err(missing("requests", Track::Stable)),
            }
        } else {
            Ok(false)
        };
        if let Err(e) = &stable_enough {
            checks.push(Check {
                name: "requests".into(),
                track: Track::Stable,
                query: r.promql(Role::Requests, Track::Stable),
                value: None,
                threshold: None,
                outcome: Outcome::Error(e.clone()),
            });
        }
        for (i, m) in self.metrics.iter().enumerate() {
            checks.push(self.judge_metric(i, m, r, matches!(stable_enough, Ok(true))));
        }
        let any = |f: fn(&Outcome) -> bool| checks.iter().any(|c| f(&c.outcome));
        let verdict = if any(|o| matches!(o, Outcome::Error(_))) {
            Verdict::Fail
        } else if !enough_requests {
            // Too few requests: what the metrics say proves nothing (rule 2).
            Verdict::NoData
        } else if any(|o| matches!(o, Outcome::Fail(_))) {
            Verdict::Fail
        } else if any(|o| matches!(o, Outcome::NoData(_))) {
            Verdict::NoData
        } else {
            Verdict::Pass
        };
        Sample { verdict, checks }
    }

    fn judge_metric(&self, i: usize, m: &Metric, r: &Readings, stable_enough: bool) -> Check {
        let role = Role::Metric(i);
        let mut check = Check {
            name: m.name.clone(),
            track: Track::Canary,
            query: r.promql(role, Track::Canary),
            value: None,
            threshold: Some(match m.bound {
                Bound::Max(t) => Threshold::Max(t),
                Bound::Min(t) => Threshold::Min(t),
            }),
            outcome: Outcome::Pass,
        };
        let value = match r.get(role, Track::Canary).map(Reading::single) {
            None => {
                check.outcome = Outcome::Error(missing(&m.name, Track::Canary));
                return check;
            }
            Some(Err(e)) => {
                check.outcome = Outcome::Error(e);
                return check;
            }
            Some(Ok(v)) => v,
        };
        // The stable reading, when the metric has a baseline and the stable
        // track had traffic enough to be measured.
        let mut baseline_note = None;
        if let (Some(b), Bound::Max(abs)) = (m.baseline, m.bound) {
            match r.get(role, Track::Stable).map(Reading::single) {
                None => {
                    check.outcome = Outcome::Error(missing(&m.name, Track::Stable));
                    return check;
                }
                Some(Err(e)) => {
                    check.outcome = Outcome::Error(e);
                    return check;
                }
                Some(Ok(Some(s))) if stable_enough => {
                    let relative = match b {
                        Baseline::Increase(d) => s + d,
                        Baseline::Ratio(k) => s * k,
                    };
                    if relative > abs {
                        check.threshold = Some(Threshold::Max(relative));
                        baseline_note = Some(format!(
                            "stable {} {}",
                            fmt_num(s),
                            match b {
                                Baseline::Increase(d) => format!("+ {}", fmt_num(d)),
                                Baseline::Ratio(k) => format!("× {}", fmt_num(k)),
                            }
                        ));
                    }
                }
                Some(Ok(_)) => {
                    baseline_note = Some("stable track without data: absolute threshold".into());
                }
            }
        }
        let Some(v) = value else {
            check.outcome = Outcome::NoData("empty result, NaN or infinite".into());
            return check;
        };
        check.value = Some(v);
        let failed = match check.threshold {
            Some(Threshold::Max(t)) => v > t,
            Some(Threshold::Min(t)) => v < t,
            None => false,
        };
        check.outcome = if failed {
            let t = check.threshold.expect("set above");
            let mut why = format!(
                "{} {} is {} {}",
                m.name,
                fmt_num(v),
                t.beyond(),
                fmt_num(t.value())
            );
            if let Some(n) = baseline_note {
                why.push_str(&format!(" ({n})"));
            }
            Outcome::Fail(why)
        } else {
            Outcome::Pass
        };
        check
    }
}

fn missing(what: &str, track: Track) -> QueryError {
    QueryError {
        kind: super::prometheus::QueryErrorKind::NotTaken,
        message: format!("no reading of `{what}` for the {track} track in the sample"),
    }
}

/// What a query is for in a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Requests,
    /// Index into [`Spec::metrics`].
    Metric(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Track {
    Canary,
    Stable,
}

impl fmt::Display for Track {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Track::Canary => "canary",
            Track::Stable => "stable",
        })
    }
}

/// A query with its variables filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedQuery {
    pub role: Role,
    pub track: Track,
    pub promql: String,
}

/// The answer to one query of a sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub query: PlannedQuery,
    pub result: Result<QueryResult, QueryError>,
}

impl Reading {
    /// The one value the query should give: `Ok(None)` for no data (empty
    /// vector, NaN, ±Inf), `Err` for a query error, including more than one
    /// series.
    pub fn single(&self) -> Result<Option<f64>, QueryError> {
        let v = match &self.result {
            Err(e) => return Err(e.clone()),
            Ok(QueryResult::Scalar(v)) => *v,
            Ok(QueryResult::Vector(s)) => match s.as_slice() {
                [] => return Ok(None),
                [one] => one.value,
                many => {
                    let sets: Vec<String> = many
                        .iter()
                        .take(3)
                        .map(|s| {
                            let l: Vec<String> =
                                s.labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
                            format!("{{{}}}", l.join(","))
                        })
                        .collect();
                    return Err(QueryError {
                        kind: super::prometheus::QueryErrorKind::SeveralSeries(many.len()),
                        message: format!(
                            "the query returned {} series where one is expected ({}{}); aggregate it, for example with sum(...)",
                            many.len(),
                            sets.join(", "),
                            if many.len() > 3 { ", …" } else { "" }
                        ),
                    });
                }
            },
        };
        Ok(v.is_finite().then_some(v))
    }
}

/// All answers of one sample.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Readings(pub Vec<Reading>);

impl Readings {
    fn get(&self, role: Role, track: Track) -> Option<&Reading> {
        self.0
            .iter()
            .find(|r| r.query.role == role && r.query.track == track)
    }

    fn promql(&self, role: Role, track: Track) -> String {
        self.get(role, track)
            .map(|r| r.query.promql.clone())
            .unwrap_or_default()
    }
}

/// The limit a value was held to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    Max(f64),
    Min(f64),
}

impl Threshold {
    pub fn value(self) -> f64 {
        match self {
            Threshold::Max(v) | Threshold::Min(v) => v,
        }
    }

    fn beyond(self) -> &'static str {
        match self {
            Threshold::Max(_) => "above",
            Threshold::Min(_) => "below",
        }
    }
}

/// How one check of a sample came out.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Pass,
    Fail(String),
    NoData(String),
    Error(QueryError),
}

/// One query's value against its threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// `requests` or the metric's name.
    pub name: String,
    pub track: Track,
    /// The PromQL sent.
    pub query: String,
    pub value: Option<f64>,
    pub threshold: Option<Threshold>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    NoData,
}

/// A judged sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub verdict: Verdict,
    pub checks: Vec<Check>,
}

impl Sample {
    /// The check that decided a failed or no-data sample: for a failed one
    /// the first query error, else the first failing metric; for a no-data
    /// one the first check without data (the request count when too few).
    pub fn deciding(&self) -> Option<&Check> {
        let find = |f: fn(&Outcome) -> bool| self.checks.iter().find(|c| f(&c.outcome));
        match self.verdict {
            Verdict::Pass => None,
            Verdict::Fail => find(|o| matches!(o, Outcome::Error(_)))
                .or_else(|| find(|o| matches!(o, Outcome::Fail(_)))),
            Verdict::NoData => find(|o| matches!(o, Outcome::NoData(_))),
        }
    }
}

/// What the caller does after a sample.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Continue,
    Abort(Abort),
}

/// Why the analysis aborted the rollout.
#[derive(Debug, Clone, PartialEq)]
pub struct Abort {
    /// Failed samples counted (equals the failure limit).
    pub failed_samples: u32,
    /// The sample that reached the limit (0-based).
    pub sample: usize,
    /// Its deciding check: which query, which value, which threshold.
    pub check: Check,
    /// Whether that sample failed for lack of data (`noData: fail`).
    pub no_data: bool,
}

impl fmt::Display for Abort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.check;
        let what = match &c.outcome {
            Outcome::Error(e) => format!("query error ({}): {}", e.kind_name(), e.message),
            Outcome::Fail(why) => why.clone(),
            Outcome::NoData(why) => format!("no data ({why}) and noData is fail"),
            Outcome::Pass => "passed".into(),
        };
        write!(
            f,
            "analysis failed {} sample(s), the limit: {what}; {} query: {}",
            self.failed_samples, c.track, c.query
        )
    }
}

/// The running analysis of one rollout: takes judged samples one at a time.
#[derive(Debug, Clone)]
pub struct Analysis {
    spec: Spec,
    samples: Vec<Sample>,
    failed: u32,
    aborted: Option<Abort>,
}

impl Analysis {
    pub fn new(spec: Spec) -> Analysis {
        Analysis {
            spec,
            samples: Vec::new(),
            failed: 0,
            aborted: None,
        }
    }

    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// Samples taken so far.
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// Failed samples so far (under `noData: fail`, no-data samples included).
    pub fn failed(&self) -> u32 {
        self.failed
    }

    /// Counts one sample (rules 5–6). Once aborted, stays aborted.
    pub fn observe(&mut self, sample: Sample) -> Decision {
        if let Some(a) = &self.aborted {
            self.samples.push(sample);
            return Decision::Abort(a.clone());
        }
        let counts_failed = match sample.verdict {
            Verdict::Fail => true,
            Verdict::Pass => false,
            Verdict::NoData => self.spec.no_data == NoDataPolicy::Fail,
        };
        let index = self.samples.len();
        if counts_failed {
            self.failed += 1;
        }
        let decision = if counts_failed && self.failed >= self.spec.failure_limit {
            let check = sample
                .deciding()
                .cloned()
                .expect("a failed or no-data sample has a deciding check");
            let abort = Abort {
                failed_samples: self.failed,
                sample: index,
                check,
                no_data: sample.verdict == Verdict::NoData,
            };
            self.aborted = Some(abort.clone());
            Decision::Abort(abort)
        } else {
            Decision::Continue
        };
        self.samples.push(sample);
        decision
    }
}

/// Numbers as people read them: no trailing zeros, no exponent for rates.
pub fn fmt_num(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

#[cfg(test)]
#[path = "analysis_tests.rs"]
mod tests;
