//! Waiting for Deployments exactly like `kubectl rollout status`, driven by a
//! watch (one list, then one watch stream for all of them), never by polling.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use futures::StreamExt;
use http_body_util::BodyExt;
use serde_json::Value;

use super::client::{Cluster, Req, WATCH_TIMEOUT};
use crate::error::{Error, Result, exit};

/// Where a Deployment's rollout stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    /// Done: the message kubectl prints.
    Complete(String),
    /// Still going: what it waits for.
    Progressing(String),
    /// Will not finish by itself (ProgressDeadlineExceeded): the condition's message.
    Failed(String),
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

/// Evaluates a Deployment the way kubectl's `DeploymentStatusViewer` does:
/// nothing counts until `status.observedGeneration >= metadata.generation`
/// (right after an apply the status still describes the previous rollout);
/// then a Progressing condition with reason `ProgressDeadlineExceeded` is a
/// failure; then updated = spec.replicas, no old replicas left, and
/// available = updated.
pub fn evaluate(dep: &Value) -> Rollout {
    let name = dep["metadata"]["name"].as_str().unwrap_or("?");
    let generation = int(&dep["metadata"]["generation"]);
    let status = &dep["status"];
    let observed = int(&status["observedGeneration"]);
    if generation > observed {
        return Rollout::Progressing(format!(
            "Waiting for deployment \"{name}\" spec update to be observed..."
        ));
    }
    let progressing = status["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["type"] == "Progressing");
    if let Some(c) = progressing
        && c["reason"] == "ProgressDeadlineExceeded"
    {
        let msg = c["message"].as_str().unwrap_or("");
        return Rollout::Failed(format!(
            "deployment \"{name}\" exceeded its progress deadline: {msg}"
        ));
    }
    // spec.replicas defaults to 1 when absent (it is omitted at 0 only in Scale).
    let desired = dep["spec"]["replicas"].as_i64().unwrap_or(1);
    let updated = int(&status["updatedReplicas"]);
    let replicas = int(&status["replicas"]);
    let available = int(&status["availableReplicas"]);
    if updated < desired {
        return Rollout::Progressing(format!(
            "Waiting for deployment \"{name}\" rollout to finish: {updated} out of {desired} new replicas have been updated..."
        ));
    }
    if replicas > updated {
        return Rollout::Progressing(format!(
            "Waiting for deployment \"{name}\" rollout to finish: {} old replicas are pending termination...",
            replicas - updated
        ));
    }
    if available < updated {
        return Rollout::Progressing(format!(
            "Waiting for deployment \"{name}\" rollout to finish: {available} of {updated} updated replicas are available..."
        ));
    }
    Rollout::Complete(format!("deployment \"{name}\" successfully rolled out"))
}

/// Where a wait reports each Deployment's state as it changes (the
/// terminal display lives in `output/`; the rollout engine turns it into
/// events).
pub trait WaitProgress {
    /// `msg` is what kubectl would print for `name`; `done` once it is final.
    fn update(&mut self, name: &str, msg: &str, done: bool);
    /// The wait is over.
    fn finish(&mut self) {}
}

/// Waits until every named Deployment of `ns` has rolled out, or fails:
/// exit 4 on timeout or a passed progress deadline, with the condition's message.
pub async fn wait_for_deployments(
    cluster: &Cluster,
    deployments_path: &str,
    label_selector: Option<&str>,
    names: &BTreeSet<String>,
    timeout: Duration,
    progress: &mut dyn WaitProgress,
) -> Result<()> {
    if names.is_empty() {
        return Ok(());
    }
    let started = Instant::now();
    let mut state: BTreeMap<String, Value> = BTreeMap::new();
    let fut = watch_loop(
        cluster,
        deployments_path,
        label_selector,
        names,
        &mut state,
        progress,
        started,
        timeout,
    );
    let result = match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r,
        Err(_) => {
            let mut waiting = Vec::new();
            let mut stuck = Vec::new();
            for name in names {
                match state.get(name) {
                    Some(d) => match evaluate(d) {
                        Rollout::Complete(_) => {}
                        Rollout::Progressing(m) | Rollout::Failed(m) => {
                            stuck.push(d);
                            let cond = d["status"]["conditions"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .filter(|c| c["status"] != "True")
                                .filter_map(|c| c["message"].as_str())
                                .collect::<Vec<_>>()
                                .join("; ");
                            waiting.push(if cond.is_empty() {
                                m
                            } else {
                                format!("{m} ({cond})")
                            });
                        }
                    },
                    None => waiting.push(format!("deployment \"{name}\" does not exist")),
                }
            }
            Err(Error::WithCode {
                code: exit::TIMEOUT,
                message: format!(
                    "timed out after {} waiting for the rollout: {}{}",
                    crate::fleet::duration::format(timeout),
                    waiting.join("; "),
                    describe_hint(&stuck)
                ),
            })
        }
    };
    progress.finish();
    result
}

#[allow(clippy::too_many_arguments)]
async fn watch_loop(
    cluster: &Cluster,
    path: &str,
    label_selector: Option<&str>,
    names: &BTreeSet<String>,
    state: &mut BTreeMap<String, Value>,
    progress: &mut dyn WaitProgress,
    started: Instant,
    timeout: Duration,
) -> Result<()> {
    'relist: loop {
        // LIST for the current state and the resourceVersion to watch from.
        let mut req = Req::get(path);
        if let Some(s) = label_selector {
            req = req.query("labelSelector", s);
        }
        let list = cluster.send_ok(&req).await?;
        state.clear();
        for item in list["items"].as_array().into_iter().flatten() {
            if let Some(n) = item["metadata"]["name"].as_str()
                && names.contains(n)
            {
                state.insert(n.to_string(), item.clone());
            }
        }
        if check_all(names, state, progress)? {
            return Ok(());
        }
        let mut rv = list["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or("")
            .to_string();
        // Watches the server (or a proxy) closed at once, in a row: each is re-opened
        // after a growing pause, not in a tight loop until the timeout.
        let mut quick_closes = 0u32;
        loop {
            let left = timeout
                .saturating_sub(started.elapsed())
                .as_secs()
                .clamp(1, WATCH_TIMEOUT.as_secs());
            let mut req = Req::get(path)
                .query("watch", "true")
                .query("allowWatchBookmarks", "true")
                .query("timeoutSeconds", left.to_string());
            if !rv.is_empty() {
                req = req.query("resourceVersion", rv.clone());
            }
            if let Some(s) = label_selector {
                req = req.query("labelSelector", s);
            }
            let opened = Instant::now();
            let mut delivered = false;
            let mut events = WatchEvents::new(cluster.stream(&req).await?);
            while let Some(ev) = events.next().await {
                let ev = match ev {
                    Ok(ev) => ev,
                    // A dropped stream is resumed from the last resourceVersion.
                    Err(e) => {
                        tracing::info!("watch of {path} interrupted ({e}); resuming");
                        break;
                    }
                };
                delivered = true;
                let obj = &ev["object"];
                match ev["type"].as_str().unwrap_or("") {
                    "ERROR" => {
                        // 410 Expired: the resourceVersion is too old; list again.
                        if obj["code"] == 410 {
                            continue 'relist;
                        }
                        return Err(Error::Failed(format!(
                            "watching {path} on {} failed: {}",
                            cluster.where_(),
                            obj["message"].as_str().unwrap_or("")
                        )));
                    }
                    kind => {
                        if let Some(r) = obj["metadata"]["resourceVersion"].as_str() {
                            rv = r.to_string();
                        }
                        if kind == "BOOKMARK" {
                            continue;
                        }
                        let Some(n) = obj["metadata"]["name"].as_str() else {
                            continue;
                        };
                        if !names.contains(n) {
                            continue;
                        }
                        if kind == "DELETED" {
                            state.remove(n);
                        } else {
                            state.insert(n.to_string(), obj.clone());
                        }
                        if check_all(names, state, progress)? {
                            return Ok(());
                        }
                    }
                }
            }
            if delivered || opened.elapsed() >= QUICK_CLOSE {
                quick_closes = 0;
            } else {
                quick_closes += 1;
                tokio::time::sleep(reopen_delay(quick_closes)).await;
            }
        }
    }
}

/// A watch that ends sooner than this without an event was closed "at once".
const QUICK_CLOSE: Duration = Duration::from_secs(1);

/// The pause before re-opening a watch after `quick_closes` watches in a row ended at once:
/// 200 ms doubling up to 5 s (none after a watch that delivered something or lasted).
pub fn reopen_delay(quick_closes: u32) -> Duration {
    if quick_closes == 0 {
        return Duration::ZERO;
    }
    let ms = 200u64.saturating_mul(1 << (quick_closes - 1).min(10));
    Duration::from_millis(ms.min(5_000))
}

/// The events of a watch response, one JSON object a line.
pub struct WatchEvents {
    stream: http_body_util::BodyDataStream<kube::client::Body>,
    buf: Vec<u8>,
}

impl WatchEvents {
    pub fn new(body: kube::client::Body) -> WatchEvents {
        WatchEvents {
            stream: body.into_data_stream(),
            buf: Vec::new(),
        }
    }

    /// The next event (lines that are not JSON are skipped); `None` when the
    /// stream ends, an error when the connection broke.
    pub async fn next(&mut self) -> Option<std::result::Result<Value, kube::Error>> {
        loop {
            while let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                if let Ok(ev) = serde_json::from_slice::<Value>(&line) {
                    return Some(Ok(ev));
                }
            }
            match self.stream.next().await? {
                Ok(chunk) => self.buf.extend_from_slice(&chunk),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// What to run to see why Deployments do not become ready ("" for none).
fn describe_hint(deployments: &[&Value]) -> String {
    let Some(first) = deployments.first() else {
        return String::new();
    };
    let ns = first["metadata"]["namespace"].as_str().unwrap_or("default");
    let names: Vec<&str> = deployments
        .iter()
        .filter_map(|d| d["metadata"]["name"].as_str())
        .collect();
    format!(
        "; `kubectl -n {ns} describe deployment {}` and the events of its pods show why \
         (image pull, probes, scheduling, quota)",
        names.join(" ")
    )
}

/// Shows each Deployment's state; true when all are complete, an error
/// (exit 4) when one can no longer complete.
fn check_all(
    names: &BTreeSet<String>,
    state: &BTreeMap<String, Value>,
    progress: &mut dyn WaitProgress,
) -> Result<bool> {
    let mut all = true;
    for name in names {
        match state.get(name) {
            None => {
                all = false;
                progress.update(
                    name,
                    &format!("Waiting for deployment \"{name}\" to exist..."),
                    false,
                );
            }
            Some(d) => match evaluate(d) {
                Rollout::Complete(m) => progress.update(name, &m, true),
                Rollout::Progressing(m) => {
                    all = false;
                    progress.update(name, &m, false);
                }
                Rollout::Failed(m) => {
                    progress.update(name, &m, true);
                    return Err(Error::WithCode {
                        code: exit::TIMEOUT,
                        message: format!("{m}{}", describe_hint(&[d])),
                    });
                }
            },
        }
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A recorded response body (real kube-apiserver v1.28.7 with its controller manager).
    fn transcript(name: &str) -> Option<Value> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/apiserver/fixtures/transcripts")
            .join(name);
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let v: Value = serde_json::from_str(&text).unwrap();
        Some(v["response"]["body"].clone())
    }

    #[test]
    fn mid_rollout_waits_for_old_replicas() {
        let Some(d) = transcript("16-deploy-snapshot-mid-rollout.json") else {
            return;
        };
        assert_eq!(
            evaluate(&d),
            Rollout::Progressing(
                "Waiting for deployment \"mcp-github\" rollout to finish: 1 old replicas are pending termination..."
                    .into()
            )
        );
    }

    #[test]
    fn complete_snapshot_is_complete() {
        let Some(d) = transcript("17-deploy-snapshot-complete.json") else {
            return;
        };
        assert_eq!(
            evaluate(&d),
            Rollout::Complete("deployment \"mcp-github\" successfully rolled out".into())
        );
    }

    #[test]
    fn stuck_snapshot_fails_with_the_condition_message() {
        let Some(d) = transcript("82-deploy-stuck-final.json") else {
            return;
        };
        assert_eq!(
            evaluate(&d),
            Rollout::Failed(
                "deployment \"mcp-stuck\" exceeded its progress deadline: ReplicaSet \"mcp-stuck-595f7d5fc8\" has timed out progressing."
                    .into()
            )
        );
    }

    #[test]
    fn stale_status_after_apply_is_not_complete() {
        // Transcript 14: the apply answer carries the previous (complete) status.
        let Some(mut d) = transcript("17-deploy-snapshot-complete.json") else {
            return;
        };
        d["metadata"]["generation"] = 3.into();
        assert!(
            matches!(evaluate(&d), Rollout::Progressing(m) if m.contains("spec update to be observed"))
        );
        // And a stale ProgressDeadlineExceeded from the previous generation is not a failure yet.
        let Some(mut s) = transcript("82-deploy-stuck-final.json") else {
            return;
        };
        s["metadata"]["generation"] = 2.into();
        assert!(matches!(evaluate(&s), Rollout::Progressing(_)));
    }

    #[test]
    fn watches_closed_at_once_are_reopened_ever_more_slowly() {
        assert_eq!(reopen_delay(0), Duration::ZERO);
        let d: Vec<u64> = (1..=8)
            .map(|n| reopen_delay(n).as_millis() as u64)
            .collect();
        assert_eq!(d, vec![200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
        assert_eq!(reopen_delay(u32::MAX), Duration::from_secs(5));
    }

    #[test]
    fn counts_are_checked_in_kubectl_order() {
        let d = serde_json::json!({"metadata": {"name": "x", "generation": 1},
            "spec": {"replicas": 3},
            "status": {"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 2}});
        assert_eq!(
            evaluate(&d),
            Rollout::Progressing("Waiting for deployment \"x\" rollout to finish: 2 of 3 updated replicas are available...".into())
        );
        let d = serde_json::json!({"metadata": {"name": "x", "generation": 1},
            "spec": {"replicas": 3}, "status": {"observedGeneration": 1, "updatedReplicas": 1}});
        assert!(
            matches!(evaluate(&d), Rollout::Progressing(m) if m.contains("1 out of 3 new replicas"))
        );
        let d = serde_json::json!({"metadata": {"name": "x", "generation": 1},
            "spec": {"replicas": 0}, "status": {"observedGeneration": 1}});
        assert!(matches!(evaluate(&d), Rollout::Complete(_)));
    }
}
