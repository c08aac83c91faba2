//! Fault injection: fail, slow down or cut the next N requests that match.

use hyper::Method;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[derive(Debug, Clone)]
pub enum FaultAction {
    /// Answer with this status and a Status body shaped like the real one (500 InternalError,
    /// 503 ServiceUnavailable, 409 Conflict, others generic).
    Status(u16),
    /// 429 with `Retry-After` and a TooManyRequests Status (what API Priority and Fairness
    /// answers when a request is rejected).
    TooManyRequests { retry_after_secs: u32 },
    /// Wait, then handle the request normally.
    Delay(Duration),
    /// Close the connection in the middle of the response (headers sent, body cut).
    Drop,
    /// Handle the request in full (the write is stored, resourceVersion bumped, watchers
    /// told), then close the connection without sending any answer: the client sees the
    /// connection closed before a response (hyper: "connection closed before message
    /// completed"), as when an answer is lost on the way back.
    CommitThenDrop,
    /// Hold the request until the test opens the gate, then handle it normally: a slow
    /// request that lasts exactly as long as the test needs, with no timing.
    Hold(Gate),
}

/// Where [`FaultAction::Hold`] requests wait; clones share the gate.
#[derive(Debug, Clone)]
pub struct Gate {
    open: Arc<tokio::sync::watch::Sender<bool>>,
    arrived: Arc<AtomicUsize>,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            open: Arc::new(tokio::sync::watch::channel(false).0),
            arrived: Arc::new(AtomicUsize::new(0)),
        }
    }
}

impl Gate {
    pub fn new() -> Gate {
        Gate::default()
    }

    /// Lets the held requests (and later ones) through.
    pub fn open(&self) {
        self.open.send_replace(true);
    }

    /// How many requests reached the gate so far (held now or let through).
    pub fn arrived(&self) -> usize {
        self.arrived.load(Ordering::SeqCst)
    }

    pub(crate) async fn wait(&self) {
        self.arrived.fetch_add(1, Ordering::SeqCst);
        let mut rx = self.open.subscribe();
        let _ = rx.wait_for(|open| *open).await;
    }
}

#[derive(Debug, Clone)]
pub struct Fault {
    /// `None` matches every method.
    pub method: Option<Method>,
    /// Matches when the request's `path?query` contains this text ("" matches everything).
    pub path_contains: String,
    /// How many matching requests it affects.
    pub times: u32,
    pub action: FaultAction,
    /// When set, a request whose `path?query` contains this text does not match (e.g.
    /// `dryRun`: real writes only, not their dry runs).
    pub unless_contains: Option<String>,
}

impl Fault {
    pub fn new(
        method: Option<Method>,
        path_contains: &str,
        times: u32,
        action: FaultAction,
    ) -> Self {
        Fault {
            method,
            path_contains: path_contains.to_string(),
            times,
            action,
            unless_contains: None,
        }
    }

    /// The same fault, not matching a request whose `path?query` contains `text`.
    pub fn unless_contains(mut self, text: &str) -> Self {
        self.unless_contains = Some(text.to_string());
        self
    }
}

/// Takes one use of the first fault matching this request.
pub fn take(faults: &mut Vec<Fault>, method: &Method, path_and_query: &str) -> Option<FaultAction> {
    let i = faults.iter().position(|f| {
        f.times > 0
            && f.method.as_ref().is_none_or(|m| m == method)
            && path_and_query.contains(&f.path_contains)
            && f.unless_contains
                .as_deref()
                .is_none_or(|t| !path_and_query.contains(t))
    })?;
    faults[i].times -= 1;
    let action = faults[i].action.clone();
    if faults[i].times == 0 {
        faults.remove(i);
    }
    Some(action)
}

pub fn status_error(code: u16) -> crate::status::ApiError {
    use crate::status::ApiError;
    match code {
        500 => crate::status::internal(
            "an error on the server (\"injected fault\") has prevented the request from succeeding",
        ),
        503 => crate::status::service_unavailable(),
        409 => ApiError::new(
            409,
            Some("Conflict"),
            "Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again",
            Some(serde_json::json!({})),
        ),
        429 => crate::status::too_many_requests(1),
        403 => ApiError::new(
            403,
            Some("Forbidden"),
            "injected fault: forbidden",
            Some(serde_json::json!({})),
        ),
        c => ApiError::new(
            c,
            Some("InternalError"),
            &format!("injected fault: HTTP {c}"),
            None,
        ),
    }
}
