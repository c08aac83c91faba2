//! What `deploy` and `rollback` share: the server's render function, the
//! engine settings from the flags, the plan printed by `--dry-run`.

use serde_json::Value;

use crate::cli::RolloutArgs;
use crate::cluster::session::Session;
use crate::error::{Result, exit};
use crate::fleet::Server;
use crate::output::Printer;
use crate::render::{RenderOptions, Renderer, RolloutState};
use crate::rollout::bluegreen;
use crate::rollout::gates;
use crate::rollout::plan::Plan;
use crate::rollout::run::Settings;

/// Renders `server` for a rollout state, for the cluster's version.
pub fn renderer<'a>(
    s: &'a Session,
    server: &'a Server,
    args: &RolloutArgs,
) -> Result<impl Fn(&RolloutState) -> Result<Vec<Value>> + 'a> {
    let renderer = Renderer::new(args.templates.as_deref())?;
    let kube_version = s.kube_version()?;
    Ok(move |st: &RolloutState| {
        let mut opts = RenderOptions {
            kube_version,
            ..Default::default()
        };
        opts.rollout.insert(server.name.clone(), st.clone());
        Ok(renderer
            .render_fleet(&s.fleet, std::slice::from_ref(&server.name), &opts)?
            .into_iter()
            .map(|o| o.value)
            .collect())
    })
}

/// The server named on the command line.
pub fn server<'a>(s: &'a Session, name: &str) -> Result<&'a Server> {
    s.check_servers(&[name.to_string()])?;
    Ok(s.fleet
        .servers
        .iter()
        .find(|x| x.name == name)
        .expect("checked above"))
}

pub fn settings(args: &RolloutArgs) -> Settings {
    Settings {
        force_unlock: args.force_unlock,
        wait_timeout: args.timeout,
        smoke: gates::Settings {
            timeout: args.smoke_timeout,
            headers: args.headers.clone(),
            url: args.smoke_url.clone(),
        },
        analyzer: None,
        undo_by: "rollback",
    }
}

pub fn bluegreen_options(
    server: &Server,
    args: &RolloutArgs,
    allow_breaking_tools: bool,
    keep_failed: bool,
    scale_down_delay: Option<std::time::Duration>,
) -> bluegreen::Options {
    bluegreen::Options {
        smoke: !args.no_smoke,
        tool_schema: true,
        allow_breaking_tools,
        keep_failed,
        scale_down_delay: scale_down_delay.unwrap_or(server.blue_green.scale_down_delay),
    }
}

/// Prints a plan (`--dry-run`).
pub fn print_plan(printer: &Printer, plan: &Plan) -> Result<u8> {
    match printer.format {
        crate::cli::OutputFormat::Table => printer.data(&plan.describe()),
        _ => printer.data(&printer.document(plan)?),
    }
    Ok(exit::OK)
}
