//! Watch streams.
//!
//! API conventions, "Watch": a watch "returns a stream of events ... ADDED, MODIFIED,
//! DELETED, BOOKMARK, ERROR"; "if the requested resourceVersion is too old ... the server
//! responds with an ERROR event carrying a 410 Gone/Expired Status" — on HTTP 200, as the
//! stream has already started (transcript 48). Bookmarks carry only
//! `metadata.resourceVersion` (transcript 46).

use crate::discovery::Resource;
use crate::server::Req;
use crate::status::ApiError;
use crate::store::WatchEvent;
use crate::{Shared, selector, status};
use bytes::Bytes;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

type Tx = mpsc::Sender<Result<Bytes, std::io::Error>>;

fn line(kind: &str, obj: &Value) -> Bytes {
    let mut s = serde_json::to_vec(&json!({"type": kind, "object": obj})).unwrap_or_default();
    s.push(b'\n');
    Bytes::from(s)
}

struct Filter {
    group: String,
    plural: String,
    ns: Option<String>,
    labels: Vec<selector::Req>,
    fields: Vec<selector::FieldReq>,
}

impl Filter {
    fn obj_matches(&self, v: &Value) -> bool {
        selector::matches(&self.labels, v.pointer("/metadata/labels"))
            && selector::fields_match(&self.fields, v)
    }

    /// The event this watch sees, if any (an object leaving the selector is DELETED for it).
    fn translate(&self, ev: &WatchEvent) -> Option<(&'static str, Value)> {
        if ev.key.group != self.group || ev.key.resource != self.plural {
            return None;
        }
        if self.ns.as_deref().is_some_and(|n| n != ev.key.namespace) {
            return None;
        }
        let now = self.obj_matches(&ev.object);
        let before = ev.old.as_ref().map(|o| self.obj_matches(o));
        let kind = match (ev.kind, before, now) {
            ("MODIFIED", Some(true), true) => "MODIFIED",
            ("MODIFIED", Some(false), true) => "ADDED",
            ("MODIFIED", Some(true), false) => "DELETED",
            ("MODIFIED", _, _) => return None,
            (k, _, true) => k,
            _ => return None,
        };
        Some((kind, ev.object.clone()))
    }
}

pub fn start(
    shared: &Arc<Shared>,
    res: &Resource,
    ns: Option<&str>,
    r: &Req,
) -> Result<mpsc::Receiver<Result<Bytes, std::io::Error>>, ApiError> {
    let labels = selector::parse_labels(r.q("labelSelector").unwrap_or(""))
        .map_err(|e| status::bad_request(&format!("unable to parse requirement: {e}")))?;
    let fields = selector::parse_fields(r.q("fieldSelector").unwrap_or(""), &res.kind)
        .map_err(|e| status::bad_request(&e))?;
    let filter = Filter {
        group: res.group.clone(),
        plural: res.plural.clone(),
        ns: ns.map(String::from),
        labels,
        fields,
    };
    let from: Option<u64> = match r.q("resourceVersion").unwrap_or("") {
        "" | "0" => None,
        s => Some(
            s.parse()
                .map_err(|_| status::bad_request(&format!("invalid resource version: {s:?}")))?,
        ),
    };
    let bookmarks = matches!(r.q("allowWatchBookmarks"), Some("true") | Some("1"));
    let timeout = r
        .q("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(1800);
    let (tx, rx) = mpsc::channel(4096);
    let bookmark_skeleton = json!({"kind": res.kind, "apiVersion": res.api_version(), "metadata": {"resourceVersion": "", "creationTimestamp": null}});

    let st = shared.store.lock().unwrap();
    if let Some(rv) = from
        && rv < st.oldest
    {
        let s = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": format!("too old resource version: {rv} ({})", st.oldest), "reason": "Expired", "code": 410});
        let _ = tx.try_send(Ok(line("ERROR", &s)));
        return Ok(rx);
    }
    let mut initial: Vec<Bytes> = Vec::new();
    match from {
        None => {
            for (k, v) in st.list(&res.group, &res.plural, ns) {
                let _ = k;
                if filter.obj_matches(v) {
                    initial.push(line("ADDED", v));
                }
            }
        }
        Some(rv) => {
            for ev in st.history.iter().filter(|e| e.rv > rv) {
                if let Some((k, o)) = filter.translate(ev) {
                    initial.push(line(k, &o));
                }
            }
        }
    }
    let mut sub = shared.events.subscribe();
    let start_rv = st.rv;
    drop(st);
    let mut stop = shared.stop.subscribe();

    tokio::spawn(async move {
        let tx: Tx = tx;
        for b in initial {
            if tx.send(Ok(b)).await.is_err() {
                return;
            }
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
        let mut seen = start_rv;
        let mut sent = start_rv;
        let mut tick = tokio::time::interval(Duration::from_millis(1000));
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => return,
                _ = tx.closed() => return,
                _ = stop.changed() => return,
                _ = tick.tick(), if bookmarks => {
                    {
                        let _ = sent;
                        let mut b = bookmark_skeleton.clone();
                        b["metadata"]["resourceVersion"] = json!(seen.to_string());
                        if tx.send(Ok(line("BOOKMARK", &b))).await.is_err() { return; }
                        sent = seen;
                    }
                }
                ev = sub.recv() => match ev {
                    Ok(ev) => {
                        if ev.rv <= start_rv { continue; }
                        seen = ev.rv;
                        if let Some((k, o)) = filter.translate(&ev) {
                            if tx.send(Ok(line(k, &o))).await.is_err() { return; }
                            sent = ev.rv;
                        }
                    }
                    Err(_) => return,
                }
            }
        }
    });
    Ok(rx)
}
