//! `mcpctl status`: one row per server from a constant number of LIST calls;
//! `--watch` prints again whenever a Deployment of the fleet changes.

use std::time::Duration;

use crate::cli::{GlobalArgs, OutputFormat, StatusArgs};
use crate::cluster::status::{self, ServerStatus};
use crate::cluster::wait::WatchEvents;
use crate::cluster::{Req, runtime, session};
use crate::error::{Result, exit};
use crate::output::Printer;

pub fn run(global: &GlobalArgs, args: &StatusArgs, printer: &Printer) -> Result<u8> {
    runtime()?.block_on(async {
        let s = session::open(global, super::inputs::fleet(global, printer)?).await?;
        s.check_servers(&args.servers)?;
        let ns = s.ns().to_string();
        loop {
            let snap = status::snapshot(&s.cluster, &ns, &s.fleet).await?;
            if snap.secrets.is_none() {
                printer.warn(&format!(
                    "warning: not allowed to list Secrets in namespace {ns}: certificate expiry is not shown"
                ));
            }
            let rows = status::rows(&s.fleet, &ns, &args.servers, &snap, s.cluster.now());
            print(printer, &rows)?;
            if !args.watch {
                return Ok(exit::OK);
            }
            wait_for_change(&s.cluster, &ns, &s.fleet.name).await?;
        }
    })
}

/// What `-o json|yaml` prints.
#[derive(serde::Serialize)]
struct Document<'a> {
    servers: &'a [ServerStatus],
}

fn print(printer: &Printer, rows: &[ServerStatus]) -> Result<()> {
    match printer.format {
        OutputFormat::Table => printer.data(&status::table(rows)),
        _ => printer.data(&printer.document(&Document { servers: rows })?),
    }
    Ok(())
}

/// Blocks until a Deployment or a journal state record of the fleet changes
/// (two watches, not a poll), or five minutes pass.
async fn wait_for_change(cluster: &crate::cluster::Cluster, ns: &str, fleet: &str) -> Result<()> {
    let deployments = first_change(
        cluster,
        format!("/apis/apps/v1/namespaces/{ns}/deployments"),
        format!("app.kubernetes.io/part-of={fleet}"),
    );
    let states = first_change(
        cluster,
        format!("/api/v1/namespaces/{ns}/configmaps"),
        format!("mcpctl.io/record=state,mcpctl.io/fleet={fleet}"),
    );
    tokio::select! {
        r = deployments => r?,
        r = states => r?,
        _ = tokio::time::sleep(Duration::from_secs(300)) => {}
    }
    // Let a burst of events settle before printing again.
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(())
}

/// Watches `path` from its current resourceVersion until one object changes.
async fn first_change(
    cluster: &crate::cluster::Cluster,
    path: String,
    selector: String,
) -> Result<()> {
    let list = cluster
        .send_ok(
            &Req::get(&path)
                .query("labelSelector", selector.clone())
                .query("limit", "1"),
        )
        .await?;
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let req = Req::get(&path)
        .query("watch", "true")
        .query("allowWatchBookmarks", "true")
        .query("labelSelector", selector)
        .query("resourceVersion", rv)
        .query("timeoutSeconds", "300");
    let mut events = WatchEvents::new(cluster.stream(&req).await?);
    while let Some(Ok(ev)) = events.next().await {
        if ev["type"] != "BOOKMARK" {
            return Ok(());
        }
    }
    // The stream ended (timeout or a dropped connection): print again anyway.
    Ok(())
}
