//! `mcpctl smoke`: the MCP smoke test of one server (through the API
//! server's service proxy, or a URL), of the whole fleet, or of two endpoints
//! whose tool lists are compared. Exit 3 when a smoke test fails or the tools
//! changed in a way that breaks clients.

use futures::StreamExt;

use crate::cli::{GlobalArgs, OutputFormat, SmokeArgs};
use crate::cluster::{Cluster, runtime, session};
use crate::error::{Error, Result, exit};
use crate::fleet::Server;
use crate::gate::{self, Endpoint, SmokeOptions};
use crate::output::Printer;
use crate::output::smoke::{Outcome, SmokeOutput};

/// Servers tested at once by `--all`.
const CONCURRENCY: usize = 8;

pub fn run(global: &GlobalArgs, args: &SmokeArgs, printer: &Printer) -> Result<u8> {
    let opts = SmokeOptions {
        timeout: args.timeout,
        headers: args.headers.clone(),
    };
    runtime()?.block_on(async {
        let out = if args.all {
            all(global, &opts, printer).await?
        } else {
            one(global, args, &opts, printer).await?
        };
        print(printer, &out)?;
        verdict(&out)
    })
}

async fn one(
    global: &GlobalArgs,
    args: &SmokeArgs,
    opts: &SmokeOptions,
    printer: &Printer,
) -> Result<SmokeOutput> {
    let session = match (&args.url, &args.server) {
        (Some(_), _) => None,
        (None, Some(server)) => {
            let s = session::open(global, super::inputs::fleet(global, printer)?).await?;
            s.check_servers(std::slice::from_ref(server))?;
            Some(s)
        }
        (None, None) => return Err(Error::Usage("pass SERVER, --url URL or --all".into())),
    };
    let (target, endpoint) = match (&args.url, &session) {
        (Some(url), _) => (url.clone(), Endpoint::Url(url.clone())),
        (None, Some(s)) => {
            let name = args.server.clone().unwrap_or_default();
            let server = s.fleet.servers.iter().find(|sv| sv.name == name);
            let server = server.expect("check_servers found it");
            (name, service_endpoint(&s.cluster, s.ns(), server))
        }
        (None, None) => unreachable!("a usage error above"),
    };
    let tested = async {
        Outcome::of(
            target,
            args.server.clone(),
            gate::smoke(&endpoint, opts).await,
        )
    };
    let Some(baseline_url) = &args.compare_to else {
        return Ok(SmokeOutput::new(vec![tested.await], None));
    };
    let baseline_endpoint = Endpoint::Url(baseline_url.clone());
    let baseline = async {
        Outcome::of(
            baseline_url.clone(),
            None,
            gate::smoke(&baseline_endpoint, opts).await,
        )
    };
    let (tested, baseline) = tokio::join!(tested, baseline);
    Ok(SmokeOutput::new(vec![tested], Some(baseline)))
}

async fn all(global: &GlobalArgs, opts: &SmokeOptions, printer: &Printer) -> Result<SmokeOutput> {
    let s = session::open(global, super::inputs::fleet(global, printer)?).await?;
    let ns = s.ns().to_string();
    let cluster = &s.cluster;
    let outcomes: Vec<Outcome> = futures::stream::iter(s.fleet.servers.iter().map(|server| {
        let endpoint = service_endpoint(cluster, &ns, server);
        async move {
            let result = gate::smoke(&endpoint, opts).await;
            Outcome::of(server.name.clone(), Some(server.name.clone()), result)
        }
    }))
    .buffered(CONCURRENCY)
    .collect()
    .await;
    Ok(SmokeOutput::new(outcomes, None))
}

/// A server's main Service (named after it), on the fleet's port and path;
/// `https:` when the server serves TLS.
fn service_endpoint<'a>(cluster: &'a Cluster, ns: &str, server: &Server) -> Endpoint<'a> {
    let service = match server.tls {
        Some(_) => format!("https:{}", server.name),
        None => server.name.clone(),
    };
    Endpoint::Service {
        cluster,
        namespace: ns.to_string(),
        service,
        port: server.port,
        path: server.path.clone(),
    }
}

fn print(printer: &Printer, out: &SmokeOutput) -> Result<()> {
    match printer.format {
        OutputFormat::Table => printer.data(&crate::output::smoke::table(out)),
        _ => printer.data(&printer.document(out)?),
    }
    Ok(())
}

/// Exit 0 when every smoke test passed and no tool change breaks clients;
/// otherwise exit 3 with the reasons.
fn verdict(out: &SmokeOutput) -> Result<u8> {
    let mut reasons: Vec<String> = out
        .results
        .iter()
        .chain(out.baseline.iter())
        .filter_map(|o| o.failure.as_ref().map(|f| f.to_string()))
        .collect();
    if let Some(diff) = &out.tool_diff {
        let breaking = diff.breaking();
        if !breaking.is_empty() {
            reasons.push(format!(
                "{} breaking tool change{} against {}: {}",
                breaking.len(),
                if breaking.len() == 1 { "" } else { "s" },
                out.baseline
                    .as_ref()
                    .map(|b| b.target.as_str())
                    .unwrap_or(""),
                breaking
                    .iter()
                    .map(|c| format!("{} {}", c.tool, c.what))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
    }
    if reasons.is_empty() {
        return Ok(exit::OK);
    }
    Err(Error::WithCode {
        code: exit::GATE_FAILED,
        message: reasons.join("\n"),
    })
}
