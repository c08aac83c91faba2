//! What a canary deploy needs besides the engine: its steps and analysis
//! (the fleet file's `canary` block, overridden by flags) and the
//! Prometheus client the analysis samples through.

use crate::cli::{CanaryArgs, NoDataArg};
use crate::cluster::session::Session;
use crate::error::{Error, Result};
use crate::fleet::{NoDataPolicy, Server};
use crate::gate::analysis::Spec;
use crate::gate::prometheus::{self, Auth, Client, TokenSource};
use crate::gate::query::Vars;
use crate::render::context::image_version;
use crate::rollout::canary::{Canary, check_steps};
use crate::rollout::hold::Analyzer;

/// The server's analysis settings with the flags applied.
fn analysis(server: &Server, args: &CanaryArgs) -> Result<crate::fleet::Analysis> {
    let mut a = server.canary.analysis.clone();
    if let Some(i) = args.analysis_interval {
        if i.is_zero() {
            return Err(Error::Usage(
                "--analysis-interval must be more than 0".into(),
            ));
        }
        a.interval = i;
    }
    if let Some(r) = args.max_error_rate {
        if !(0.0..=1.0).contains(&r) {
            return Err(Error::Usage(format!(
                "--max-error-rate {r}: a rate is between 0 and 1 (0.01 is 1%)"
            )));
        }
        a.max_error_rate = r;
    }
    if let Some(n) = args.min_requests {
        a.min_requests = n;
    }
    if let Some(p) = args.no_data {
        a.no_data = match p {
            NoDataArg::Fail => NoDataPolicy::Fail,
            NoDataArg::Pass => NoDataPolicy::Pass,
            NoDataArg::Ignore => NoDataPolicy::Ignore,
        };
    }
    if let Some(n) = args.failure_limit {
        a.failure_limit = n;
    }
    Ok(a)
}

/// Everything the plan and the analysis of a canary deploy take.
pub struct Setup {
    pub canary: Canary,
    pub spec: Spec,
    pub canary_vars: Vars,
    pub stable_vars: Vars,
}

/// The canary's steps, analysis and queries for deploying `image` over
/// `stable_image`.
pub fn setup(
    s: &Session,
    server: &Server,
    args: &CanaryArgs,
    image: &str,
    stable_image: &str,
) -> Result<Setup> {
    let steps = args
        .steps
        .clone()
        .unwrap_or_else(|| server.canary.steps.clone());
    check_steps(&steps).map_err(|e| Error::Usage(format!("canary steps {steps:?}: {e}")))?;
    let a = analysis(server, args)?;
    let spec = Spec::from_fleet(&a)
        .map_err(|e| Error::Usage(format!("server {}: canary.analysis: {e}", server.name)))?;
    let mut canary_vars = Vars::new(s.ns(), server, "canary", &image_version(image));
    canary_vars.interval = a.interval;
    let stable_vars = canary_vars.for_track("stable", &image_version(stable_image));
    let queries = spec
        .queries(&canary_vars, &stable_vars)
        .map_err(|e| Error::Usage(format!("server {}: canary.analysis: {e}", server.name)))?
        .into_iter()
        .map(|q| format!("{} {}: {}", q.track, role(&spec, q.role), q.promql))
        .collect();
    Ok(Setup {
        canary: Canary {
            steps,
            step_duration: args.step_duration.unwrap_or(server.canary.step_duration),
            queries,
        },
        spec,
        canary_vars,
        stable_vars,
    })
}

fn role(spec: &Spec, r: crate::gate::analysis::Role) -> String {
    match r {
        crate::gate::analysis::Role::Requests => "requests".into(),
        crate::gate::analysis::Role::Metric(i) => spec.metrics[i].name.clone(),
    }
}

/// The Prometheus client of the analysis, with its credentials read.
async fn client(s: &Session, server: &Server, args: &CanaryArgs) -> Result<Client> {
    let url = match (&args.prometheus_url, &server.prometheus) {
        (Some(u), _) => u.clone(),
        (None, Some(p)) => p.url.clone(),
        (None, None) => {
            return Err(Error::Usage(format!(
                "server {} has no Prometheus to gate its canary: set `prometheus.url` in the fleet \
                 file (under defaults or the server), or pass --prometheus-url",
                server.name
            )));
        }
    };
    let source = if let Some(t) = &args.prometheus_token {
        Some(TokenSource::Value(t.clone()))
    } else if let Some(v) = &args.prometheus_token_env {
        Some(TokenSource::Env(v.clone()))
    } else if let Some(sk) = &args.prometheus_token_secret {
        let (name, key) = sk.split_once('/').ok_or_else(|| {
            Error::Usage(format!(
                "--prometheus-token-secret `{sk}`: write NAME/KEY (a Secret in namespace {} and its key)",
                s.ns()
            ))
        })?;
        Some(TokenSource::Secret {
            namespace: s.ns().to_string(),
            name: name.into(),
            key: key.into(),
        })
    } else {
        None
    };
    let auth = match (source, &args.prometheus_user) {
        (Some(src), _) => Auth::Bearer(
            prometheus::token(&src, Some(&s.cluster))
                .await
                .map_err(Error::Usage)?,
        ),
        (None, Some(user)) => {
            let var = args.prometheus_password_env.as_deref().unwrap_or_default();
            let password = std::env::var(var).map_err(|e| {
                Error::Usage(format!(
                    "--prometheus-password-env {var}: the variable cannot be read ({e})"
                ))
            })?;
            Auth::Basic {
                user: user.clone(),
                password,
            }
        }
        (None, None) => Auth::None,
    };
    Client::new(&prometheus::Options {
        url,
        timeout: args.prometheus_timeout,
        auth,
        ca_file: args.prometheus_ca.clone(),
    })
    .map_err(Error::Usage)
}

/// The analysis a canary deploy runs.
pub async fn analyzer(
    s: &Session,
    server: &Server,
    args: &CanaryArgs,
    setup: &Setup,
) -> Result<Analyzer> {
    Ok(Analyzer::new(
        client(s, server, args).await?,
        setup.spec.clone(),
        setup.canary_vars.clone(),
        setup.stable_vars.clone(),
    ))
}
