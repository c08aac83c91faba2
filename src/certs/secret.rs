//! The Secrets certificates live in, as JSON: the server's
//! `kubernetes.io/tls` Secret (`tls.crt`, `tls.key`, `ca.crt`), the fleet CA
//! Secret (the same keys; `ca.crt` is the trust bundle clients mount), and
//! the backups a rotation leaves (labelled copies, never ConfigMaps).

use base64::Engine;
use rustls::pki_types::CertificateDer;
use serde_json::{Value, json};

use super::inspect::CertInfo;

/// Label on every Secret mcpctl writes.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// Label on a backup: the Secret it is a copy of.
pub const BACKUP_OF: &str = "mcpctl.io/cert-backup-of";
/// Annotation on a backup: when it was taken (RFC 3339 to the millisecond,
/// the API server's clock).
pub const BACKED_UP_AT: &str = "mcpctl.io/backed-up-at";
/// Pod-template annotation holding the served certificate's fingerprint:
/// changing it rolls the Deployment so that pods load the new Secret.
pub const FINGERPRINT: &str = "mcpctl.io/cert-fingerprint";
/// The field manager of that annotation (never the apply manager's, so
/// `apply` neither removes nor fights it).
pub const FIELD_MANAGER: &str = "mcpctl-certs";
/// Backups kept per Secret by default.
pub const KEEP_BACKUPS: usize = 3;

/// Who renews a Secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Manager {
    Mcpctl,
    CertManager,
    Unknown,
}

impl Manager {
    pub fn as_str(self) -> &'static str {
        match self {
            Manager::Mcpctl => "mcpctl",
            Manager::CertManager => "cert-manager",
            Manager::Unknown => "unknown",
        }
    }
}

/// cert-manager marks the Secrets of its Certificates with this annotation.
pub const CERT_MANAGER_CERTIFICATE: &str = "cert-manager.io/certificate-name";

pub fn manager(secret: &Value) -> Manager {
    let meta = &secret["metadata"];
    if meta["annotations"][CERT_MANAGER_CERTIFICATE].is_string()
        || meta["labels"]["controller.cert-manager.io/fao"].is_string()
    {
        Manager::CertManager
    } else if meta["labels"][MANAGED_BY] == "mcpctl" {
        Manager::Mcpctl
    } else {
        Manager::Unknown
    }
}

/// A data value of a Secret, decoded; `None` when absent or not base64.
pub fn data(secret: &Value, key: &str) -> Option<Vec<u8>> {
    let b64 = secret["data"][key].as_str()?;
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// The certificate chain in a Secret's `tls.crt` and its leaf, when readable.
pub fn chain(secret: &Value) -> Option<(Vec<CertificateDer<'static>>, CertInfo)> {
    let chain = super::pem::certs(&data(secret, "tls.crt")?).ok()?;
    let leaf = super::inspect::inspect(chain[0].as_ref()).ok()?;
    Some((chain, leaf))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A new `kubernetes.io/tls` Secret.
pub fn tls_secret(ns: &str, name: &str, cert_pem: &str, key_pem: &str, ca_pem: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": ns, "labels": {MANAGED_BY: "mcpctl"}},
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": b64(cert_pem.as_bytes()), "tls.key": b64(key_pem.as_bytes()), "ca.crt": b64(ca_pem.as_bytes())},
    })
}

/// `old` with new contents, keeping its metadata (the `resourceVersion`
/// makes the replacing PUT fail with 409 if anyone wrote in between) and any
/// other data keys; labelled as mcpctl's.
pub fn replaced(old: &Value, cert_pem: &[u8], key_pem: &[u8], ca_pem: Option<&[u8]>) -> Value {
    let mut s = old.clone();
    if let Some(m) = s["metadata"].as_object_mut() {
        m.remove("managedFields");
    }
    s["apiVersion"] = json!("v1");
    s["kind"] = json!("Secret");
    if !s["metadata"]["labels"].is_object() {
        s["metadata"]["labels"] = json!({});
    }
    s["metadata"]["labels"][MANAGED_BY] = json!("mcpctl");
    if !s["data"].is_object() {
        s["data"] = json!({});
    }
    s["data"]["tls.crt"] = json!(b64(cert_pem));
    s["data"]["tls.key"] = json!(b64(key_pem));
    if let Some(ca) = ca_pem {
        s["data"]["ca.crt"] = json!(b64(ca));
    }
    s
}

/// The name of a backup of `secret` taken at `stamp` (`YYYYMMDDhhmmss-<tag>`).
pub fn backup_name(secret: &str, stamp: &str) -> String {
    let base: String = secret.chars().take(253 - 30).collect();
    format!("{base}.bak-{stamp}")
}

/// The value of the [`BACKUP_OF`] label of backups of `secret`. A label value
/// holds at most 63 characters and a Secret's name up to 253: a longer name
/// is cut to 40 characters and followed by 16 hex digits of its SHA-256, so
/// that it stays one valid value per Secret.
pub fn backup_of(secret: &str) -> String {
    if secret.len() <= 63 {
        return secret.to_string();
    }
    let digest = super::inspect::fingerprint(secret.as_bytes());
    let head: String = secret.chars().take(40).collect();
    format!("{head}-{}", &digest[..16])
}

/// A backup copy of `secret` (its type and data), labelled with the
/// Secret it copies and annotated with when.
/// The name ends with the first 8 hex digits of the certificate's SHA-256, so
/// that two backups of one second differ when their contents do (and a
/// retried backup of the same contents is the same object).
pub fn backup(secret: &Value, stamp: &str, when: &str) -> Value {
    let name = secret["metadata"]["name"].as_str().unwrap_or_default();
    let crt = data(secret, "tls.crt").unwrap_or_default();
    let tag = &super::inspect::fingerprint(&crt)[..8];
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": backup_name(name, &format!("{stamp}-{tag}")),
            "namespace": secret["metadata"]["namespace"],
            "labels": {MANAGED_BY: "mcpctl", BACKUP_OF: backup_of(name)},
            "annotations": {BACKED_UP_AT: when},
        },
        "type": secret["type"],
        "data": secret["data"],
    })
}

/// Backups newest first (by their time annotation, then name).
pub fn newest_first(mut backups: Vec<Value>) -> Vec<Value> {
    let key = |b: &Value| {
        (
            b["metadata"]["annotations"][BACKED_UP_AT]
                .as_str()
                .unwrap_or("")
                .to_string(),
            b["metadata"]["name"].as_str().unwrap_or("").to_string(),
        )
    };
    backups.sort_by_key(|b| std::cmp::Reverse(key(b)));
    backups
}

/// The names of the backups to delete so that the newest `keep` remain.
pub fn to_prune(backups: Vec<Value>, keep: usize) -> Vec<String> {
    newest_first(backups)
        .iter()
        .skip(keep)
        .filter_map(|b| b["metadata"]["name"].as_str().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bak(name: &str, at: &str) -> Value {
        json!({"metadata": {"name": name, "annotations": {BACKED_UP_AT: at}}})
    }

    #[test]
    fn the_oldest_backups_are_pruned() {
        let b = vec![
            bak("a", "2026-01-02T00:00:00Z"),
            bak("b", "2026-01-04T00:00:00Z"),
            bak("c", "2026-01-01T00:00:00Z"),
            bak("d", "2026-01-03T00:00:00Z"),
            bak("e", "2026-01-05T00:00:00Z"),
        ];
        assert_eq!(to_prune(b, 3), ["a", "c"]);
    }

    #[test]
    fn managers() {
        let cm = json!({"metadata": {"annotations": {CERT_MANAGER_CERTIFICATE: "gh"}}});
        assert_eq!(manager(&cm), Manager::CertManager);
        let ours = json!({"metadata": {"labels": {MANAGED_BY: "mcpctl"}}});
        assert_eq!(manager(&ours), Manager::Mcpctl);
        assert_eq!(manager(&json!({"metadata": {}})), Manager::Unknown);
    }

    #[test]
    fn a_replacement_keeps_the_resource_version_and_other_keys() {
        let old = json!({"metadata": {"name": "gh-tls", "resourceVersion": "42", "managedFields": []},
                         "type": "kubernetes.io/tls", "data": {"tls.crt": "eA==", "tls.key": "eA==", "extra": "eQ=="}});
        let new = replaced(&old, b"C", b"K", None);
        assert_eq!(new["metadata"]["resourceVersion"], "42");
        assert!(new["metadata"].get("managedFields").is_none());
        assert_eq!(new["data"]["extra"], "eQ==");
        assert_eq!(data(&new, "tls.crt").unwrap(), b"C");
        assert_eq!(data(&new, "tls.key").unwrap(), b"K");
    }

    #[test]
    fn a_backup_is_a_labelled_secret() {
        let s = json!({"metadata": {"name": "gh-tls", "namespace": "mcp"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "eA=="}});
        let b = backup(&s, "20261201063000", "2026-12-01T06:30:00Z");
        assert_eq!(b["kind"], "Secret");
        // "x" (eA==) has the SHA-256 2d711642…
        assert_eq!(b["metadata"]["name"], "gh-tls.bak-20261201063000-2d711642");
        assert_eq!(b["metadata"]["labels"][BACKUP_OF], "gh-tls");
        assert_eq!(b["data"], s["data"]);
    }

    #[test]
    fn a_long_secret_name_gets_a_valid_label_value() {
        let long = format!("{}-tls", "a".repeat(100));
        let v = backup_of(&long);
        assert!(v.len() <= 63, "{v}");
        assert!(v.starts_with(&"a".repeat(40)) && v.ends_with(|c: char| c.is_ascii_hexdigit()));
        // One value per Secret: another long name sharing the first 40 characters differs.
        assert_ne!(v, backup_of(&format!("{}-cert", "a".repeat(100))));
        assert_eq!(backup_of(&"b".repeat(63)), "b".repeat(63));
        let s =
            json!({"metadata": {"name": long, "namespace": "mcp"}, "data": {"tls.crt": "eA=="}});
        let b = backup(&s, "20261201063000", "2026-12-01T06:30:00Z");
        assert_eq!(b["metadata"]["labels"][BACKUP_OF], v.as_str());
        assert!(b["metadata"]["name"].as_str().unwrap().len() <= 253);
    }
}
