//! `certs status`, `init-ca`, `rotate` and `rollback` against the test API
//! server, with certificates cross-checked by the `openssl` command line and
//! served over real TLS.

use std::path::Path;

use base64::Engine;
use mcpctl::certs::issue::{self, Issued};
use serde_json::{Value, json};

use crate::cluster_support::{Env, NS, out};

const DAY: i64 = 86_400;

/// A fleet of rolling servers with `tls: {}` (Secret `<name>-tls`, CA `acme-ca`).
fn fleet(servers: &[&str]) -> String {
    let mut f = format!(
        "fleet: acme\nnamespace: {NS}\ndefaults:\n  replicas: 1\n  router: service\n  strategy: rolling\n  tls: {{}}\nservers:\n"
    );
    for s in servers {
        f.push_str(&format!(
            "  - name: {s}\n    image: ghcr.io/acme/{s}-mcp:1.0.0\n"
        ));
    }
    f
}

fn env_with(servers: &[&str]) -> Env {
    let env = Env::start(&[]);
    env.srv
        .put_object(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}));
    env.write_fleet(&fleet(servers));
    env
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn text(secret: &Value, key: &str) -> String {
    let b = base64::engine::general_purpose::STANDARD
        .decode(
            secret["data"][key]
                .as_str()
                .unwrap_or_else(|| panic!("no {key} in {secret}")),
        )
        .unwrap();
    String::from_utf8(b).unwrap()
}

fn secret(env: &Env, name: &str) -> Option<Value> {
    env.srv
        .get(&format!("/api/v1/namespaces/{NS}/secrets/{name}"))
}

/// `certs init-ca`, which must succeed; returns the CA as stored.
fn init_ca(env: &Env) -> Issued {
    let o = env.run(&["certs", "init-ca"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let s = secret(env, "acme-ca").expect("the CA Secret exists");
    Issued {
        cert_pem: text(&s, "tls.crt"),
        key_pem: text(&s, "tls.key"),
    }
}

/// The names a rolling server `name` in `mcp` must cover.
fn names(name: &str) -> Vec<String> {
    mcpctl::certs::names::required(&[name.to_string()], NS, &[])
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Stores `cert` as server `server`'s Secret (as another tool would).
fn put_tls(env: &Env, server: &str, cert: &Issued, annotations: Value) {
    env.srv.put_object(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": format!("{server}-tls"), "namespace": NS, "annotations": annotations},
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": b64(&cert.cert_pem), "tls.key": b64(&cert.key_pem)},
    }));
}

fn status_json(env: &Env, args: &[&str]) -> (Option<i32>, Value, String) {
    let mut a = vec!["certs", "status", "-o", "json"];
    a.extend_from_slice(args);
    let o = env.run(&a);
    let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", out(&o)));
    (o.status.code(), v, out(&o))
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

/// Runs openssl; returns (success, stdout+stderr).
fn openssl(args: &[&str]) -> (bool, String) {
    let o = std::process::Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl is installed (scripts/test.sh installs it)");
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// openssl agrees: the leaf verifies against the CA, is valid for a day
/// more, and its public key is the key's.
fn openssl_agrees(dir: &Path, ca_pem: &str, cert_pem: &str, key_pem: &str) {
    let ca = write(dir, "ca.pem", ca_pem);
    let leaf = write(dir, "leaf.pem", cert_pem);
    let key = write(dir, "leaf.key", key_pem);
    let (ok, text) = openssl(&["verify", "-CAfile", &ca, &leaf]);
    assert!(ok && text.contains(": OK"), "openssl verify: {text}");
    let (ok, text) = openssl(&["x509", "-checkend", "86400", "-noout", "-in", &leaf]);
    assert!(ok, "openssl x509 -checkend: {text}");
    let (ok, from_cert) = openssl(&["x509", "-pubkey", "-noout", "-in", &leaf]);
    assert!(ok, "{from_cert}");
    let (ok, from_key) = openssl(&["pkey", "-pubout", "-in", &key]);
    assert!(ok, "{from_key}");
    assert_eq!(from_cert, from_key, "the key is the certificate's");
}

#[test]
fn init_ca_creates_once_refuses_twice_and_replaces_with_force() {
    let env = env_with(&["github"]);
    let ca = init_ca(&env);
    let s = secret(&env, "acme-ca").unwrap();
    assert_eq!(s["type"], "kubernetes.io/tls");
    assert_eq!(
        text(&s, "ca.crt"),
        ca.cert_pem,
        "the trust bundle starts as the CA"
    );
    let dir = env.dir.path();
    let cert = write(dir, "ca.pem", &ca.cert_pem);
    let (ok, t) = openssl(&["x509", "-noout", "-text", "-in", &cert]);
    assert!(
        ok && t.contains("CA:TRUE") && t.contains("prime256v1"),
        "{t}"
    );
    let (ok, t) = openssl(&["verify", "-CAfile", &cert, &cert]);
    assert!(ok, "self-signed CA verifies against itself: {t}");

    let o = env.run(&["certs", "init-ca"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        out(&o).contains("already exists") && out(&o).contains("--force"),
        "{}",
        out(&o)
    );
    assert_eq!(
        text(&secret(&env, "acme-ca").unwrap(), "tls.crt"),
        ca.cert_pem,
        "untouched"
    );

    let o = env.run(&["certs", "init-ca", "--force", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["action"], "replaced");
    assert_ne!(
        text(&secret(&env, "acme-ca").unwrap(), "tls.crt"),
        ca.cert_pem
    );
    assert!(!String::from_utf8_lossy(&o.stdout).contains("PRIVATE KEY"));
}

#[test]
fn init_ca_imports_a_ca_made_by_openssl_and_refuses_a_leaf() {
    let env = env_with(&["github"]);
    let dir = env.dir.path();
    let key = dir.join("ca.key").to_string_lossy().into_owned();
    let crt = dir.join("ca.crt").to_string_lossy().into_owned();
    let (ok, t) = openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &key,
        "-out",
        &crt,
        "-days",
        "30",
        "-subj",
        "/CN=imported CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    assert!(ok, "{t}");
    let o = env.run(&[
        "certs",
        "init-ca",
        "--secret",
        "acme-ca",
        "--import-cert",
        &crt,
        "--import-key",
        &key,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(out(&o).contains("imported"), "{}", out(&o));
    let s = secret(&env, "acme-ca").unwrap();
    assert_eq!(text(&s, "tls.crt"), std::fs::read_to_string(&crt).unwrap());

    // The imported CA issues: a rotation's certificate verifies against it with openssl.
    let ca = Issued {
        cert_pem: text(&s, "tls.crt"),
        key_pem: text(&s, "tls.key"),
    };
    let leaf = issue::server(&ca.cert_pem, &ca.key_pem, &names("github"), now(), 10).unwrap();
    openssl_agrees(dir, &ca.cert_pem, &leaf.cert_pem, &leaf.key_pem);

    // A server certificate is not a CA.
    let lc = write(dir, "leaf.crt", &leaf.cert_pem);
    let lk = write(dir, "leaf.key", &leaf.key_pem);
    let o = env.run(&[
        "certs",
        "init-ca",
        "--secret",
        "other-ca",
        "--import-cert",
        &lc,
        "--import-key",
        &lk,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(out(&o).contains("is not a CA certificate"), "{}", out(&o));
    assert!(secret(&env, "other-ca").is_none());
}

#[test]
fn status_judges_each_certificate_and_exits_by_the_worst() {
    let servers = [
        "valid", "soon", "expired", "mixed", "foreign", "nosan", "absent", "managed",
    ];
    let env = env_with(&servers);
    let ca = init_ca(&env);
    let t = now();
    let issue = |name: &str, from: i64, days: u32| {
        issue::server(&ca.cert_pem, &ca.key_pem, &names(name), from, days).unwrap()
    };
    // Issued an hour ago: 89 whole days left, whatever the clocks' seconds.
    put_tls(&env, "valid", &issue("valid", t - 3600, 90), json!({}));
    put_tls(&env, "soon", &issue("soon", t - 80 * DAY, 90), json!({}));
    put_tls(
        &env,
        "expired",
        &issue("expired", t - 100 * DAY, 90),
        json!({}),
    );
    let a = issue("mixed", t, 90);
    let b = issue("mixed", t, 90);
    put_tls(
        &env,
        "mixed",
        &Issued {
            cert_pem: a.cert_pem,
            key_pem: b.key_pem,
        },
        json!({}),
    );
    let other = issue::new_ca("other CA", t - DAY, 365).unwrap();
    let foreign = issue::server(&other.cert_pem, &other.key_pem, &names("foreign"), t, 90).unwrap();
    put_tls(&env, "foreign", &foreign, json!({}));
    let nosan = issue::server(&ca.cert_pem, &ca.key_pem, &names("nosan")[..2], t, 90).unwrap();
    put_tls(&env, "nosan", &nosan, json!({}));
    put_tls(
        &env,
        "managed",
        &issue("managed", t, 90),
        json!({"cert-manager.io/certificate-name": "managed"}),
    );

    env.srv.clear_requests();
    let (code, v, text) = status_json(&env, &[]);
    assert_eq!(code, Some(1), "{text}");
    let reqs = env.srv.requests();
    assert_eq!(
        reqs.len(),
        2,
        "one /version and one LIST whatever the fleet size: {reqs:?}"
    );
    let state = |s: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|r| r["server"] == s)
            .unwrap_or_else(|| panic!("{s} in {v}"))
            .clone()
    };
    assert_eq!(state("valid")["state"], "ok");
    assert_eq!(state("valid")["daysLeft"], 89, "{}", state("valid"));
    assert_eq!(state("valid")["keyMatches"], true);
    assert_eq!(state("valid")["chainVerifies"], true);
    assert_eq!(state("valid")["manager"], "unknown");
    assert_eq!(state("valid")["certificate"]["keyType"], "ECDSA P-256");
    assert_eq!(state("soon")["state"], "expires-soon");
    assert_eq!(state("expired")["state"], "expired");
    assert_eq!(state("mixed")["state"], "key-mismatch");
    assert_eq!(state("foreign")["state"], "wrong-ca");
    assert_eq!(state("nosan")["state"], "missing-san");
    assert_eq!(state("nosan")["missingNames"], json!(names("nosan")[2..]));
    assert_eq!(state("absent")["state"], "missing");
    assert_eq!(state("managed")["manager"], "cert-manager");
    assert!(!text.contains("PRIVATE KEY"), "{text}");

    // Each on its own, with its exit code.
    let code_of = |s: &str| status_json(&env, &[s]).0;
    assert_eq!(code_of("valid"), Some(0));
    assert_eq!(code_of("soon"), Some(8));
    for bad in ["expired", "mixed", "foreign", "nosan", "absent"] {
        assert_eq!(code_of(bad), Some(1), "{bad}");
    }
    // --warn-days moves the line.
    assert_eq!(status_json(&env, &["soon", "--warn-days", "5"]).0, Some(0));
    assert_eq!(
        status_json(&env, &["valid", "--warn-days", "100"]).0,
        Some(8)
    );

    // The table says the same, without key material.
    let o = env.run(&["certs", "status", "valid", "soon"]);
    assert_eq!(o.status.code(), Some(8), "{}", out(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains("SERVER") && table.contains("expires-soon") && table.contains("ECDSA P-256"),
        "{table}"
    );
}
