//! A canary step's hold: sample Prometheus every analysis interval until the
//! step's time is up, judge each sample, and stop at the sample that
//! reaches the failure limit (the caller restores traffic at once). Also the
//! watcher of control requests (`mcpctl promote`, `mcpctl abort`) that
//! reach a running canary through the journal.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior, interval_at};

use super::events::{Event, SampleCheck};
use crate::cluster::journal::{Journal, Request};
use crate::gate::analysis::{self, Analysis, Decision, Outcome, Sample, Threshold, Verdict};
use crate::gate::prometheus::Client;
use crate::gate::query::Vars;
use crate::gate::sample;

/// Everything a canary's analysis needs while it runs.
pub struct Analyzer {
    pub client: Client,
    pub canary: Vars,
    pub stable: Vars,
    pub interval: Duration,
    analysis: RefCell<Analysis>,
    /// A promote request seen by the watcher, for the hold to act on.
    promote: Cell<Option<Request>>,
}

/// How a hold ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Held {
    /// The step's time is up, every sample within the limit.
    Done,
    /// `promote` ended it early; `full` skips the remaining steps.
    Promoted { full: bool },
    /// The analysis failed: which query, value and threshold.
    Failed(String),
}

impl Analyzer {
    pub fn new(client: Client, spec: analysis::Spec, canary: Vars, stable: Vars) -> Analyzer {
        let interval = canary.interval.max(Duration::from_millis(100));
        Analyzer {
            client,
            canary,
            stable,
            interval,
            analysis: RefCell::new(Analysis::new(spec)),
            promote: Cell::new(None),
        }
    }

    /// Holds at `weight` for `length`, sampling every interval (the first
    /// sample one interval in; at least one sample).
    pub async fn hold(&self, weight: u32, length: Duration, emit: &dyn Fn(Event)) -> Held {
        emit(Event::Holding {
            weight,
            seconds: length.as_secs(),
        });
        let start = Instant::now();
        let end = start + length;
        let mut tick = interval_at(start + self.interval, self.interval);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Some(r) = self.promote.take() {
                return Held::Promoted {
                    full: r == Request::PromoteFull,
                };
            }
            if let Some(failed) = self.sample(weight, emit).await {
                return Held::Failed(failed);
            }
            if Instant::now() >= end {
                return Held::Done;
            }
        }
    }

    /// Takes and judges one sample; `Some(why)` when it aborts the rollout.
    async fn sample(&self, weight: u32, emit: &dyn Fn(Event)) -> Option<String> {
        let spec = self.analysis.borrow().spec().clone();
        let judged = match sample::take(&self.client, &spec, &self.canary, &self.stable).await {
            Ok(r) => spec.judge(&r),
            Err(e) => return Some(format!("the analysis queries do not render: {e}")),
        };
        let checks = checks(&judged);
        let verdict = judged.verdict;
        let decision = self.analysis.borrow_mut().observe(judged);
        let a = self.analysis.borrow();
        emit(Event::Sample {
            weight,
            index: a.samples().len(),
            verdict: verdict_str(verdict).into(),
            failed: a.failed(),
            failure_limit: spec.failure_limit,
            checks,
        });
        match decision {
            Decision::Continue => None,
            Decision::Abort(why) => Some(why.to_string()),
        }
    }

    /// Samples taken so far and how many failed.
    pub fn counts(&self) -> (usize, u32) {
        let a = self.analysis.borrow();
        (a.samples().len(), a.failed())
    }

    /// Watches the journal for a control request for operation `op`, every
    /// interval: resolves with the abort; a promote is left for the hold.
    /// `seen` holds the ids acted on (kept in the operation's record).
    pub async fn watch(
        &self,
        journal: &Journal<'_>,
        server: &str,
        op: &str,
        seen: &RefCell<Vec<String>>,
        emit: &dyn Fn(Event),
    ) -> String {
        loop {
            tokio::time::sleep(self.interval).await;
            // A failed read is tried again next interval: the analysis, not
            // the control channel, decides about the release.
            let Ok(state) = journal.state(server).await else {
                continue;
            };
            let Some(c) = state.control else { continue };
            if c.operation != op || seen.borrow().contains(&c.id) {
                continue;
            }
            seen.borrow_mut().push(c.id.clone());
            emit(Event::Control {
                request: c.request.as_str().into(),
                who: c.who.clone(),
            });
            match c.request {
                Request::Abort => return format!("aborted by `mcpctl abort` ({})", c.who),
                r => self.promote.set(Some(r)),
            }
        }
    }
}

fn verdict_str(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::NoData => "no-data",
    }
}

/// A sample's checks as events carry them.
fn checks(s: &Sample) -> Vec<SampleCheck> {
    s.checks
        .iter()
        .map(|c| {
            let (outcome, detail) = match &c.outcome {
                Outcome::Pass => ("pass", String::new()),
                Outcome::Fail(w) => ("fail", w.clone()),
                Outcome::NoData(w) => ("no-data", w.clone()),
                Outcome::Error(e) => ("error", format!("{} ({})", e.message, e.kind_name())),
            };
            SampleCheck {
                name: c.name.clone(),
                track: c.track.to_string(),
                query: c.query.clone(),
                value: c.value.filter(|v| v.is_finite()),
                threshold: c.threshold.map(|t| match t {
                    Threshold::Max(v) => format!("<= {}", analysis::fmt_num(v)),
                    Threshold::Min(v) => format!(">= {}", analysis::fmt_num(v)),
                }),
                outcome: outcome.into(),
                detail,
            }
        })
        .collect()
}
