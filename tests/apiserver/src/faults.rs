//! Fault injection: fail, slow down or cut the next N requests that match.

use hyper::Method;
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
        }
    }
}

/// Takes one use of the first fault matching this request.
pub fn take(faults: &mut Vec<Fault>, method: &Method, path_and_query: &str) -> Option<FaultAction> {
    let i = faults.iter().position(|f| {
        f.times > 0
            && f.method.as_ref().is_none_or(|m| m == method)
            && path_and_query.contains(&f.path_contains)
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
