//! One test per rule of the module docs; readings are values, not HTTP.

use super::*;
use crate::gate::prometheus::{QueryErrorKind, Series};

fn spec(no_data: NoDataPolicy, failure_limit: u32) -> Spec {
    Spec {
        requests_query: query::requests_template(),
        min_requests: 20,
        metrics: vec![Metric {
            name: "error-rate".into(),
            query: query::error_rate_template(),
            bound: Bound::Max(0.01),
            baseline: None,
        }],
        no_data,
        failure_limit,
    }
}

fn with_baseline(b: Baseline) -> Spec {
    let mut s = spec(NoDataPolicy::Fail, 1);
    s.metrics[0].baseline = Some(b);
    s
}

fn vector(values: &[f64]) -> Result<QueryResult, QueryError> {
    Ok(QueryResult::Vector(
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Series {
                labels: [("pod".to_string(), format!("p{i}"))].into(),
                value: *v,
            })
            .collect(),
    ))
}

fn error(kind: QueryErrorKind) -> Result<QueryResult, QueryError> {
    Err(QueryError {
        kind,
        message: "it went wrong".into(),
    })
}

fn reading(role: Role, track: Track, result: Result<QueryResult, QueryError>) -> Reading {
    Reading {
        query: PlannedQuery {
            role,
            track,
            promql: format!("{role:?}-{track}"),
        },
        result,
    }
}

/// Canary requests and error rate.
fn canary(
    requests: Result<QueryResult, QueryError>,
    rate: Result<QueryResult, QueryError>,
) -> Readings {
    Readings(vec![
        reading(Role::Requests, Track::Canary, requests),
        reading(Role::Metric(0), Track::Canary, rate),
    ])
}

/// Canary and stable requests and error rates.
fn both(c_req: f64, c_rate: f64, s_req: f64, s_rate: Result<QueryResult, QueryError>) -> Readings {
    let mut r = canary(vector(&[c_req]), vector(&[c_rate]));
    r.0.push(reading(Role::Requests, Track::Stable, vector(&[s_req])));
    r.0.push(reading(Role::Metric(0), Track::Stable, s_rate));
    r
}

fn judge(s: &Spec, r: &Readings) -> Verdict {
    s.judge(r).verdict
}

#[test]
fn healthy_sample_passes() {
    let s = spec(NoDataPolicy::Fail, 1);
    let sample = s.judge(&canary(vector(&[100.0]), vector(&[0.005])));
    assert_eq!(sample.verdict, Verdict::Pass);
    assert!(sample.deciding().is_none());
    let rate = &sample.checks[1];
    assert_eq!(rate.value, Some(0.005));
    assert_eq!(rate.threshold, Some(Threshold::Max(0.01)));
}

#[test]
fn value_at_the_threshold_passes_and_above_fails() {
    let s = spec(NoDataPolicy::Fail, 1);
    assert_eq!(
        judge(&s, &canary(vector(&[100.0]), vector(&[0.01]))),
        Verdict::Pass
    );
    let sample = s.judge(&canary(vector(&[100.0]), vector(&[0.2])));
    assert_eq!(sample.verdict, Verdict::Fail);
    let c = sample.deciding().unwrap();
    assert_eq!(c.name, "error-rate");
    assert_eq!(c.value, Some(0.2));
    assert!(matches!(&c.outcome, Outcome::Fail(w) if w == "error-rate 0.2 is above 0.01"));
}

#[test]
fn scalar_results_are_accepted() {
    let s = spec(NoDataPolicy::Fail, 1);
    let r = canary(Ok(QueryResult::Scalar(50.0)), Ok(QueryResult::Scalar(0.0)));
    assert_eq!(judge(&s, &r), Verdict::Pass);
}

#[test]
fn every_prometheus_error_is_a_failed_sample() {
    let s = spec(NoDataPolicy::Pass, 1);
    for kind in [
        QueryErrorKind::Unreachable,
        QueryErrorKind::Timeout,
        QueryErrorKind::Http(503),
        QueryErrorKind::Http(404),
        QueryErrorKind::Prometheus {
            error_type: "bad_data".into(),
            status: 400,
        },
        QueryErrorKind::BadJson,
        QueryErrorKind::UnexpectedType("matrix".into()),
    ] {
        // In the metric query, and in the request count.
        let r = canary(vector(&[100.0]), error(kind.clone()));
        assert_eq!(judge(&s, &r), Verdict::Fail, "{kind:?} in the metric");
        let r = canary(error(kind.clone()), vector(&[0.0]));
        assert_eq!(
            judge(&s, &r),
            Verdict::Fail,
            "{kind:?} in the request count"
        );
    }
}

#[test]
fn an_error_fails_even_when_there_are_too_few_requests() {
    // Not "no data" under a lenient policy: an error is never a pass.
    let s = spec(NoDataPolicy::Pass, 1);
    let r = canary(vector(&[3.0]), error(QueryErrorKind::Unreachable));
    assert_eq!(judge(&s, &r), Verdict::Fail);
}

#[test]
fn empty_nan_and_infinities_are_no_data() {
    let s = spec(NoDataPolicy::Fail, 1);
    for v in [
        vector(&[]),
        vector(&[f64::NAN]),
        vector(&[f64::INFINITY]),
        vector(&[f64::NEG_INFINITY]),
    ] {
        let sample = s.judge(&canary(vector(&[100.0]), v.clone()));
        assert_eq!(sample.verdict, Verdict::NoData, "{v:?}");
        assert!(matches!(
            sample.deciding().unwrap().outcome,
            Outcome::NoData(_)
        ));
    }
}

#[test]
fn too_few_requests_is_no_data_whatever_the_rate() {
    let s = spec(NoDataPolicy::Fail, 1);
    // 19 < minRequests 20, even with a 100% error rate: the rate proves nothing.
    for rate in [1.0, 0.0] {
        let sample = s.judge(&canary(vector(&[19.0]), vector(&[rate])));
        assert_eq!(sample.verdict, Verdict::NoData, "rate {rate}");
        assert_eq!(sample.deciding().unwrap().name, "requests");
    }
    let sample = s.judge(&canary(vector(&[19.0]), vector(&[1.0])));
    let c = sample.deciding().unwrap();
    assert!(
        matches!(&c.outcome, Outcome::NoData(w) if w.contains("19 requests") && w.contains("minRequests 20"))
    );
    // Exactly minRequests is enough.
    assert_eq!(
        judge(&s, &canary(vector(&[20.0]), vector(&[0.0]))),
        Verdict::Pass
    );
    // No request count at all is no data too.
    assert_eq!(
        judge(&s, &canary(vector(&[]), vector(&[0.0]))),
        Verdict::NoData
    );
    assert_eq!(
        judge(&s, &canary(vector(&[f64::NAN]), vector(&[0.0]))),
        Verdict::NoData
    );
}

#[test]
fn more_than_one_series_is_a_query_error() {
    let s = spec(NoDataPolicy::Pass, 1);
    let sample = s.judge(&canary(vector(&[100.0]), vector(&[0.0, 0.0])));
    assert_eq!(sample.verdict, Verdict::Fail);
    let Outcome::Error(e) = &sample.deciding().unwrap().outcome else {
        panic!("{sample:?}")
    };
    assert_eq!(e.kind, QueryErrorKind::SeveralSeries(2));
    assert_eq!(e.kind_name(), "several series");
    assert!(e.message.contains("2 series where one is expected"), "{e}");
    assert!(e.message.contains("pod=\"p0\""), "{e}");
    assert!(e.message.contains("sum(...)"), "{e}");
    // In the request count as well.
    assert_eq!(
        judge(&s, &canary(vector(&[50.0, 50.0]), vector(&[0.0]))),
        Verdict::Fail
    );
}

#[test]
fn no_data_policy_fail_counts_a_failure() {
    let mut a = Analysis::new(spec(NoDataPolicy::Fail, 1));
    let s = a.spec().judge(&canary(vector(&[0.0]), vector(&[])));
    let Decision::Abort(why) = a.observe(s) else {
        panic!()
    };
    assert!(why.no_data);
    assert!(why.to_string().contains("noData is fail"), "{why}");
}

#[test]
fn no_data_policy_pass_and_ignore_never_abort() {
    for policy in [NoDataPolicy::Pass, NoDataPolicy::Ignore] {
        let mut a = Analysis::new(spec(policy, 1));
        for _ in 0..5 {
            let s = a.spec().judge(&canary(vector(&[0.0]), vector(&[])));
            assert_eq!(a.observe(s), Decision::Continue, "{policy:?}");
        }
        assert_eq!(a.failed(), 0);
        assert_eq!(a.samples().len(), 5);
    }
}

#[test]
fn failure_limit_is_the_number_of_failed_samples_that_abort() {
    let mut a = Analysis::new(spec(NoDataPolicy::Ignore, 3));
    let bad = || canary(vector(&[100.0]), vector(&[0.5]));
    let good = || canary(vector(&[100.0]), vector(&[0.0]));
    let nodata = || canary(vector(&[1.0]), vector(&[0.0]));
    let sample = |a: &Analysis, r: Readings| a.spec().judge(&r);
    let s = sample(&a, bad());
    assert_eq!(a.observe(s), Decision::Continue);
    let s = sample(&a, good());
    assert_eq!(a.observe(s), Decision::Continue);
    let s = sample(&a, nodata());
    assert_eq!(a.observe(s), Decision::Continue, "ignored: not counted");
    let s = sample(&a, bad());
    assert_eq!(a.observe(s), Decision::Continue);
    assert_eq!(a.failed(), 2);
    // Not consecutive, still the third failed sample aborts, at that sample.
    let s = sample(&a, bad());
    let Decision::Abort(why) = a.observe(s) else {
        panic!()
    };
    assert_eq!(why.failed_samples, 3);
    assert_eq!(why.sample, 4);
    assert_eq!(why.check.value, Some(0.5));
    assert_eq!(why.check.threshold, Some(Threshold::Max(0.01)));
    assert_eq!(why.check.query, "Metric(0)-canary");
    // Sticky: a good sample after the abort does not resume.
    let s = sample(&a, good());
    assert!(matches!(a.observe(s), Decision::Abort(_)));
}

#[test]
fn failure_limit_one_aborts_at_the_first_failed_sample() {
    let mut a = Analysis::new(spec(NoDataPolicy::Fail, 1));
    let s = a.spec().judge(&canary(vector(&[100.0]), vector(&[0.02])));
    let Decision::Abort(why) = a.observe(s) else {
        panic!()
    };
    assert_eq!(why.sample, 0);
    let text = why.to_string();
    assert!(text.contains("error-rate 0.02 is above 0.01"), "{text}");
    assert!(text.contains("canary query: Metric(0)-canary"), "{text}");
}

#[test]
fn abort_names_a_query_error_as_such() {
    let mut a = Analysis::new(spec(NoDataPolicy::Fail, 1));
    let s = a.spec().judge(&canary(
        vector(&[100.0]),
        error(QueryErrorKind::Unreachable),
    ));
    let Decision::Abort(why) = a.observe(s) else {
        panic!()
    };
    assert!(
        why.to_string().contains("query error (unreachable)"),
        "{why}"
    );
}

#[test]
fn several_metrics_each_with_its_threshold() {
    let mut s = spec(NoDataPolicy::Fail, 1);
    s.metrics.push(Metric {
        name: "p95-latency".into(),
        query: query::p95_latency_template(),
        bound: Bound::Max(2.0),
        baseline: None,
    });
    s.metrics.push(Metric {
        name: "success".into(),
        query: "x".into(),
        bound: Bound::Min(0.9),
        baseline: None,
    });
    let r = |rate: f64, p95: f64, success: f64| {
        let mut r = canary(vector(&[100.0]), vector(&[rate]));
        r.0.push(reading(Role::Metric(1), Track::Canary, vector(&[p95])));
        r.0.push(reading(Role::Metric(2), Track::Canary, vector(&[success])));
        r
    };
    assert_eq!(judge(&s, &r(0.0, 1.5, 0.99)), Verdict::Pass);
    let slow = s.judge(&r(0.0, 2.5, 0.99));
    assert_eq!(slow.verdict, Verdict::Fail);
    assert_eq!(slow.deciding().unwrap().name, "p95-latency");
    let low = s.judge(&r(0.0, 1.0, 0.5));
    assert!(
        matches!(&low.deciding().unwrap().outcome, Outcome::Fail(w) if w == "success 0.5 is below 0.9")
    );
    // A failing metric outweighs another without data.
    assert_eq!(judge(&s, &r(f64::NAN, 2.5, 0.99)), Verdict::Fail);
    assert_eq!(judge(&s, &r(f64::NAN, 1.0, 0.99)), Verdict::NoData);
}

#[test]
fn baseline_increase_tolerates_the_stable_error_rate() {
    let s = with_baseline(Baseline::Increase(0.01));
    // Stable at 5%: a canary at 5.5% is within stable + 1 point, though above 1%.
    assert_eq!(
        judge(&s, &both(100.0, 0.055, 100.0, vector(&[0.05]))),
        Verdict::Pass
    );
    let sample = s.judge(&both(100.0, 0.07, 100.0, vector(&[0.05])));
    assert_eq!(sample.verdict, Verdict::Fail);
    let c = sample.deciding().unwrap();
    assert_eq!(c.threshold, Some(Threshold::Max(0.060000000000000005)));
    assert!(
        matches!(&c.outcome, Outcome::Fail(w) if w.contains("stable 0.05 + 0.01")),
        "{c:?}"
    );
}

#[test]
fn baseline_never_tightens_the_absolute_threshold() {
    let s = with_baseline(Baseline::Ratio(1.5));
    // Stable at 0: stable × 1.5 = 0, but maxErrorRate 1% still holds.
    assert_eq!(
        judge(&s, &both(100.0, 0.008, 100.0, vector(&[0.0]))),
        Verdict::Pass
    );
    let sample = s.judge(&both(100.0, 0.02, 100.0, vector(&[0.0])));
    assert_eq!(
        sample.deciding().unwrap().threshold,
        Some(Threshold::Max(0.01))
    );
}

#[test]
fn baseline_ratio() {
    let s = with_baseline(Baseline::Ratio(2.0));
    assert_eq!(
        judge(&s, &both(100.0, 0.08, 100.0, vector(&[0.04]))),
        Verdict::Pass
    );
    assert_eq!(
        judge(&s, &both(100.0, 0.09, 100.0, vector(&[0.04]))),
        Verdict::Fail
    );
}

#[test]
fn baseline_without_stable_data_falls_back_to_the_absolute_threshold() {
    let s = with_baseline(Baseline::Increase(0.1));
    // Stable answered 5 requests (< 20): its 5% is not trusted.
    let sample = s.judge(&both(100.0, 0.05, 5.0, vector(&[0.05])));
    assert_eq!(sample.verdict, Verdict::Fail);
    assert!(
        matches!(&sample.deciding().unwrap().outcome, Outcome::Fail(w) if w.contains("absolute threshold"))
    );
    assert_eq!(
        judge(&s, &both(100.0, 0.05, 100.0, vector(&[]))),
        Verdict::Fail
    );
    assert_eq!(
        judge(&s, &both(100.0, 0.005, 0.0, vector(&[f64::NAN]))),
        Verdict::Pass
    );
}

#[test]
fn baseline_query_errors_fail_the_sample() {
    let s = with_baseline(Baseline::Increase(0.1));
    let r = both(100.0, 0.0, 100.0, error(QueryErrorKind::Timeout));
    assert_eq!(judge(&s, &r), Verdict::Fail);
    let mut r = both(100.0, 0.0, 100.0, vector(&[0.0]));
    r.0[2].result = error(QueryErrorKind::Http(500));
    assert_eq!(judge(&s, &r), Verdict::Fail);
}

#[test]
fn a_missing_reading_is_an_error_not_a_pass() {
    let s = spec(NoDataPolicy::Pass, 1);
    let r = Readings(vec![reading(
        Role::Requests,
        Track::Canary,
        vector(&[100.0]),
    )]);
    assert_eq!(judge(&s, &r), Verdict::Fail);
    assert_eq!(judge(&s, &Readings::default()), Verdict::Fail);
    let sample = s.judge(&r);
    let Outcome::Error(e) = &sample.deciding().unwrap().outcome else {
        panic!("{sample:?}")
    };
    assert_eq!(e.kind, QueryErrorKind::NotTaken);
    assert!(
        e.message
            .contains("no reading of `error-rate` for the canary track"),
        "{e}"
    );
}

#[test]
fn queries_list_canary_then_stable_with_variables_filled_in() {
    let vars = query::Vars {
        server: "github".into(),
        namespace: "mcp".into(),
        track: "canary".into(),
        version: "2".into(),
        interval: std::time::Duration::from_secs(30),
        window: std::time::Duration::from_secs(60),
    };
    let stable = vars.for_track("stable", "1");
    let q = spec(NoDataPolicy::Fail, 1).queries(&vars, &stable).unwrap();
    assert_eq!(q.len(), 2);
    assert!(
        q.iter()
            .all(|q| q.track == Track::Canary && q.promql.contains("track=\"canary\""))
    );
    let q = with_baseline(Baseline::Ratio(2.0))
        .queries(&vars, &stable)
        .unwrap();
    assert_eq!(
        q.iter().map(|q| (q.role, q.track)).collect::<Vec<_>>(),
        vec![
            (Role::Requests, Track::Canary),
            (Role::Metric(0), Track::Canary),
            (Role::Requests, Track::Stable),
            (Role::Metric(0), Track::Stable),
        ]
    );
    assert!(q[3].promql.contains("track=\"stable\"") && q[3].promql.contains("[1m]"));
}

#[test]
fn spec_checks_templates_and_thresholds() {
    let mut s = spec(NoDataPolicy::Fail, 1);
    s.metrics[0].query = "x{s=\"{{ sever }}\"}".into();
    assert!(s.check().unwrap_err().contains("metric `error-rate`"));
    let mut s = spec(NoDataPolicy::Fail, 0);
    assert!(s.check().unwrap_err().contains("failureLimit"));
    s.failure_limit = 1;
    s.metrics[0].bound = Bound::Min(0.5);
    s.metrics[0].baseline = Some(Baseline::Ratio(2.0));
    assert!(s.check().unwrap_err().contains("needs a `max`"));
    let s = with_baseline(Baseline::Ratio(0.5));
    assert!(s.check().unwrap_err().contains("maxRatio"));
    let s = with_baseline(Baseline::Increase(-0.1));
    assert!(s.check().unwrap_err().contains("maxIncrease"));
}

#[test]
fn spec_from_the_fleet_file() {
    let a = fleet::Analysis {
        interval: std::time::Duration::from_secs(30),
        max_error_rate: 0.02,
        min_requests: 7,
        no_data: NoDataPolicy::Ignore,
        failure_limit: 2,
        query: None,
        window: std::time::Duration::from_secs(60),
        baseline: None,
        metrics: vec![],
    };
    let s = Spec::from_fleet(&a).unwrap();
    assert_eq!(s.metrics[0].bound, Bound::Max(0.02));
    assert_eq!(s.metrics[0].query, query::error_rate_template());
    assert_eq!(
        (s.min_requests, s.no_data, s.failure_limit),
        (7, NoDataPolicy::Ignore, 2)
    );
    let custom = fleet::Analysis {
        query: Some("my_errors{s=\"{{ server }}\"}".into()),
        ..a
    };
    assert_eq!(
        Spec::from_fleet(&custom).unwrap().metrics[0].query,
        "my_errors{s=\"{{ server }}\"}"
    );
    let more = fleet::Analysis {
        baseline: Some(Baseline::Ratio(1.5)),
        metrics: vec![fleet::Metric {
            name: "p95-latency".into(),
            query: query::p95_latency_template(),
            bound: Bound::Max(2.0),
            baseline: Some(Baseline::Increase(0.5)),
        }],
        ..custom
    };
    let s = Spec::from_fleet(&more).unwrap();
    assert_eq!(s.metrics[0].baseline, Some(Baseline::Ratio(1.5)));
    assert_eq!(s.metrics[1].name, "p95-latency");
    assert_eq!(s.metrics[1].baseline, Some(Baseline::Increase(0.5)));
}

#[test]
fn numbers_print_plainly() {
    assert_eq!(fmt_num(0.01), "0.01");
    assert_eq!(fmt_num(20.0), "20");
    assert_eq!(fmt_num(f64::NAN), "NaN");
    assert_eq!(fmt_num(f64::NEG_INFINITY), "-Inf");
    assert_eq!(fmt_num(-0.0), "0");
}
