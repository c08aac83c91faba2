//! `Status` bodies for failures, shaped like the recorded ones.
//!
//! API conventions, "Response Status Kind": "Kubernetes will always return the Status kind from
//! any API endpoint when an error occurs. Clients SHOULD handle these types of objects when
//! appropriate." — `status` is "Failure", `reason` a machine-readable CamelCase word, `details`
//! names the object (`kind` there is the resource for NotFound/Conflict, the Kind for Invalid).

use serde_json::{Value, json};

/// An error answer: HTTP code, Status body, extra headers.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: u16,
    pub body: Value,
    pub headers: Vec<(String, String)>,
    /// The object changed between the handler's read and its write, and the
    /// request carried no resourceVersion precondition of its own. PATCH
    /// handlers retry these, as the real storage layer's `GuaranteedUpdate`
    /// re-reads and re-applies the patch instead of answering 409.
    pub stale_read: bool,
}

impl ApiError {
    pub fn new(code: u16, reason: Option<&str>, message: &str, details: Option<Value>) -> Self {
        let mut body = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
        });
        let m = body.as_object_mut().expect("object");
        if let Some(r) = reason {
            m.insert("reason".into(), json!(r));
        }
        if let Some(d) = details {
            m.insert("details".into(), d);
        }
        m.insert("code".into(), json!(code));
        ApiError {
            code,
            body,
            headers: Vec::new(),
            stale_read: false,
        }
    }

    pub fn with_header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }
}

/// Identity of the object an error is about.
pub struct Target<'a> {
    pub group: &'a str,
    pub resource: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
}

impl Target<'_> {
    /// "deployments.apps" / "services"
    pub fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.resource.to_string()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    /// "Deployment.apps" / "Secret"
    pub fn group_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    fn details(&self, kind: &str) -> Value {
        let mut d = json!({"name": self.name});
        if !self.group.is_empty() {
            d["group"] = json!(self.group);
        }
        d["kind"] = json!(kind);
        d
    }
}

pub fn not_found(t: &Target) -> ApiError {
    ApiError::new(
        404,
        Some("NotFound"),
        &format!("{} \"{}\" not found", t.group_resource(), t.name),
        Some(t.details(t.resource)),
    )
}

pub fn namespace_not_found(ns: &str) -> ApiError {
    ApiError::new(
        404,
        Some("NotFound"),
        &format!("namespaces \"{ns}\" not found"),
        Some(json!({"name": ns, "kind": "namespaces"})),
    )
}

pub fn already_exists(t: &Target) -> ApiError {
    ApiError::new(
        409,
        Some("AlreadyExists"),
        &format!("{} \"{}\" already exists", t.group_resource(), t.name),
        Some(t.details(t.resource)),
    )
}

/// Optimistic-concurrency failure (API conventions, "Concurrency Control and Consistency":
/// "If the version specified by the client does not match the current version, the update
/// fails with a 409 Conflict").
/// What the real server answers a request whose credential it cannot
/// authenticate: `{"kind":"Status",…,"message":"Unauthorized","reason":"Unauthorized","code":401}`.
pub fn unauthorized() -> ApiError {
    ApiError::new(401, Some("Unauthorized"), "Unauthorized", None)
}

pub fn conflict(t: &Target) -> ApiError {
    ApiError::new(
        409,
        Some("Conflict"),
        &format!(
            "Operation cannot be fulfilled on {} \"{}\": the object has been modified; please apply your changes to the latest version and try again",
            t.group_resource(),
            t.name
        ),
        Some(t.details(t.resource)),
    )
}

/// A failed DeleteOptions precondition (transcript 57: the details name the Kind).
/// The object changed under a write that had no precondition of its own:
/// a conflict for PUT, retried internally for PATCH (see `ApiError::stale_read`).
pub fn stale_read(t: &Target) -> ApiError {
    let mut e = conflict(t);
    e.stale_read = true;
    e
}

pub fn precondition_rv(t: &Target, want: &str, have: &str) -> ApiError {
    ApiError::new(
        409,
        Some("Conflict"),
        &format!(
            "Operation cannot be fulfilled on {} \"{}\": the ResourceVersion in the precondition ({want}) does not match the ResourceVersion in record ({have}). The object might have been modified",
            t.group_kind(),
            t.name
        ),
        Some(t.details(t.kind)),
    )
}

pub fn precondition_uid(t: &Target, want: &str, have: &str) -> ApiError {
    ApiError::new(
        409,
        Some("Conflict"),
        &format!(
            "Operation cannot be fulfilled on {} \"{}\": Precondition failed: UID in precondition: {want}, UID in object meta: {have}",
            t.group_kind(),
            t.name
        ),
        Some(t.details(t.kind)),
    )
}

/// One field error of a 422 Invalid answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    pub reason: String,
    pub message: String,
    pub field: String,
}

impl Cause {
    pub fn new(reason: &str, field: &str, message: impl Into<String>) -> Self {
        Cause {
            reason: reason.into(),
            message: message.into(),
            field: field.into(),
        }
    }
}

/// 422 Invalid: "<Kind.group> \"name\" is invalid: field: message" (several causes are listed
/// in brackets, comma-separated, like the real aggregate error).
pub fn invalid(qualified: &str, t: &Target, detail_kind: &str, causes: &[Cause]) -> ApiError {
    let parts: Vec<String> = causes
        .iter()
        .map(|c| format!("{}: {}", c.field, c.message))
        .collect();
    let list = if parts.len() == 1 {
        parts[0].clone()
    } else {
        format!("[{}]", parts.join(", "))
    };
    let mut d = t.details(detail_kind);
    d["causes"] = Value::Array(
        causes
            .iter()
            .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
            .collect(),
    );
    ApiError::new(
        422,
        Some("Invalid"),
        &format!("{qualified} \"{}\" is invalid: {list}", t.name),
        Some(d),
    )
}

pub fn bad_request(message: &str) -> ApiError {
    ApiError::new(400, Some("BadRequest"), message, None)
}

pub fn internal(message: &str) -> ApiError {
    ApiError::new(
        500,
        Some("InternalError"),
        message,
        Some(json!({"causes": [{"message": message}]})),
    )
}

/// What the field manager answers when it cannot build a typed object (transcripts 22, 70):
/// 500 without reason or details.
pub fn typed_patch_error(message: &str) -> ApiError {
    ApiError::new(500, None, message, None)
}

pub fn method_not_allowed() -> ApiError {
    ApiError::new(
        405,
        Some("MethodNotAllowed"),
        "the server does not allow this method on the requested resource",
        Some(json!({})),
    )
}

pub fn page_not_found(path: &str) -> ApiError {
    let _ = path;
    ApiError::new(
        404,
        Some("NotFound"),
        "the server could not find the requested resource",
        Some(json!({})),
    )
}

pub fn unsupported_media_type() -> ApiError {
    ApiError::new(
        415,
        Some("UnsupportedMediaType"),
        "415: Unsupported Media Type",
        Some(json!({})),
    )
}

pub fn not_acceptable() -> ApiError {
    ApiError::new(
        406,
        Some("NotAcceptable"),
        "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf",
        None,
    )
}

pub fn too_many_requests(retry_after: u32) -> ApiError {
    ApiError::new(
        429,
        Some("TooManyRequests"),
        "The server has received too many requests and has asked us to try again later",
        Some(
            json!({"causes": [{"message": "Too many requests"}], "retryAfterSeconds": retry_after}),
        ),
    )
    .with_header("Retry-After", &retry_after.to_string())
}

pub fn service_unavailable() -> ApiError {
    ApiError::new(
        503,
        Some("ServiceUnavailable"),
        "the server is currently unable to handle the request",
        Some(json!({"causes": [{"message": "service unavailable"}]})),
    )
}

pub fn forbidden_terminating(t: &Target, ns: &str) -> ApiError {
    ApiError::new(
        403,
        Some("Forbidden"),
        &format!(
            "{} \"{}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
            t.group_resource(),
            t.name
        ),
        Some(
            json!({"name": t.name, "group": t.group, "kind": t.resource, "causes": [{"reason": "NamespaceTerminating", "message": format!("namespace {ns} is being terminated"), "field": "metadata.namespace"}]}),
        ),
    )
}

/// The Status of a successful delete (transcripts 58, 86).
pub fn delete_success(t: &Target, uid: &str) -> Value {
    let mut d = t.details(t.resource);
    d["uid"] = json!(uid);
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": d})
}
