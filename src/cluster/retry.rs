//! When and how long to wait before repeating a request.
//!
//! Retried: 429 Too Many Requests (honouring `Retry-After`), 5xx answers that
//! are not permanent, and connection errors. Not retried: every other 4xx, and
//! the 500s the API server uses for a typed-patch error ("field not declared in
//! schema"), which will fail the same way every time.

use std::time::Duration;

/// Bounded, jittered exponential backoff.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Total tries, the first one included.
    pub max_attempts: u32,
    /// Upper bound of the first delay.
    pub base: Duration,
    /// Upper bound of any computed delay.
    pub max_delay: Duration,
    /// Upper bound of a server-requested `Retry-After`.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

/// What a finished attempt tells the retry loop.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt<'a> {
    /// The server answered with this status and body.
    Answered {
        status: u16,
        retry_after: Option<Duration>,
        body: &'a str,
    },
    /// No answer: connection refused, reset, timed out.
    ConnectionError,
}

/// Whether an answer is worth repeating.
pub fn is_retryable(attempt: &Attempt<'_>) -> bool {
    match attempt {
        Attempt::ConnectionError => true,
        Attempt::Answered { status, body, .. } => match *status {
            429 => true,
            500 => !is_permanent_500(body),
            // 501 Not Implemented will not change.
            501 => false,
            502..=599 => true,
            _ => false,
        },
    }
}

/// Whether a failed attempt of a write may have been committed anyway: a
/// connection that broke (possibly after the server acted) or a 5xx. A 429
/// was rejected before anything was done.
pub fn may_have_committed(attempt: &Attempt<'_>) -> bool {
    match attempt {
        Attempt::ConnectionError => true,
        Attempt::Answered { status, .. } => *status >= 500,
    }
}

/// The API server reports a malformed apply body (unknown field, wrong type)
/// as a 500 with an empty reason; repeating it cannot help.
pub fn is_permanent_500(body: &str) -> bool {
    body.contains("failed to create typed patch object")
        || body.contains("field not declared in schema")
        || body.contains("expected numeric")
        || body.contains("expected string")
}

impl RetryPolicy {
    /// Delay before try number `next` (2 for the first retry). A server's
    /// `Retry-After` wins (capped); otherwise "full jitter": a uniform draw in
    /// `[0, min(max_delay, base * 2^(next-2))]`, with `unit` in `[0, 1)`
    /// supplying the randomness so the computation stays testable.
    pub fn delay(&self, next: u32, retry_after: Option<Duration>, unit: f64) -> Duration {
        if let Some(ra) = retry_after {
            return ra.min(self.max_retry_after);
        }
        let exp = next.saturating_sub(2).min(20);
        let cap = self.base.saturating_mul(1u32 << exp).min(self.max_delay);
        // Never zero: a floor of a tenth of the base keeps a tight loop off the server.
        let floor = self.base / 10;
        cap.mul_f64(unit.clamp(0.0, 1.0)).max(floor)
    }
}

/// Parses `Retry-After` in its delay-seconds form (the form the API server
/// sends); an HTTP date is ignored and the computed backoff used instead.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_429_5xx_and_connection_errors_only() {
        let ans = |status| Attempt::Answered {
            status,
            retry_after: None,
            body: "",
        };
        assert!(is_retryable(&ans(429)));
        assert!(is_retryable(&ans(500)));
        assert!(is_retryable(&ans(503)));
        assert!(is_retryable(&ans(504)));
        assert!(is_retryable(&Attempt::ConnectionError));
        for s in [200, 201, 400, 401, 403, 404, 409, 410, 415, 422, 501] {
            assert!(!is_retryable(&ans(s)), "{s} must not be retried");
        }
    }

    #[test]
    fn typed_patch_500_is_permanent() {
        // Body of transcript 22 (apply with an unknown field).
        let body = r#"{"kind":"Status","status":"Failure","message":"failed to create typed patch object (rec/mcp-github; apps/v1, Kind=Deployment): .spec.replicaz: field not declared in schema","code":500}"#;
        let a = Attempt::Answered {
            status: 500,
            retry_after: None,
            body,
        };
        assert!(!is_retryable(&a));
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(2, None, 1.0), Duration::from_millis(200));
        assert_eq!(p.delay(3, None, 1.0), Duration::from_millis(400));
        assert_eq!(p.delay(4, None, 1.0), Duration::from_millis(800));
        assert_eq!(p.delay(30, None, 1.0), Duration::from_secs(5));
        assert_eq!(p.delay(3, None, 0.5), Duration::from_millis(200));
        // Jitter never reaches zero.
        assert_eq!(p.delay(2, None, 0.0), Duration::from_millis(20));
    }

    #[test]
    fn retry_after_wins_and_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.delay(2, Some(Duration::from_secs(2)), 0.1),
            Duration::from_secs(2)
        );
        assert_eq!(
            p.delay(2, Some(Duration::from_secs(3600)), 0.1),
            Duration::from_secs(30)
        );
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn a_failed_write_may_have_committed_unless_rejected_with_429() {
        assert!(may_have_committed(&Attempt::ConnectionError));
        for status in [500, 502, 503, 504] {
            let a = Attempt::Answered {
                status,
                retry_after: None,
                body: "",
            };
            assert!(may_have_committed(&a), "{status}");
        }
        let a = Attempt::Answered {
            status: 429,
            retry_after: Some(Duration::from_secs(1)),
            body: "",
        };
        assert!(!may_have_committed(&a));
    }
}
