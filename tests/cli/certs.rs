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
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", out(&o)));
    assert_eq!(v["schemaVersion"], 1, "{v}");
    (o.status.code(), v["servers"].clone(), out(&o))
}

/// The `results` of a `certs rotate`/`rollback`/`rotate-ca -o json` document.
fn results_of(o: &std::process::Output) -> Value {
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", out(o)));
    assert_eq!(v["schemaVersion"], 1, "{v}");
    v["results"].clone()
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

/// A CA made by `openssl req -x509 -newkey KEYSPEC..` in `dir`: (cert path, key path).
fn openssl_ca(dir: &Path, name: &str, keyspec: &[&str]) -> (String, String) {
    let key = dir
        .join(format!("{name}.key"))
        .to_string_lossy()
        .into_owned();
    let crt = dir
        .join(format!("{name}.crt"))
        .to_string_lossy()
        .into_owned();
    let mut args = vec!["req", "-x509", "-newkey"];
    args.extend_from_slice(keyspec);
    args.extend_from_slice(&[
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
    let (ok, t) = openssl(&args);
    assert!(ok, "{t}");
    (crt, key)
}

#[test]
fn init_ca_imports_a_ca_made_by_openssl_and_refuses_a_leaf() {
    let env = env_with(&["github"]);
    let dir = env.dir.path();
    let (crt, key) = openssl_ca(dir, "ca", &["ec", "-pkeyopt", "ec_paramgen_curve:P-256"]);
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
    let other = issue::new_ca("other CA", t - DAY, 365, Default::default()).unwrap();
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

/// A TLS server standing in for a server's pods: it serves, at every
/// handshake, what `source` gives (the Secret as stored now, or a pinned
/// certificate), with rustls on tokio.
mod tls_fixture {
    use std::sync::Arc;

    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use rustls::server::{ClientHello, ResolvesServerCert};
    use rustls::sign::CertifiedKey;

    pub type Source = Arc<dyn Fn() -> Option<(String, String)> + Send + Sync>;

    struct Resolver(Source);

    impl std::fmt::Debug for Resolver {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Resolver")
        }
    }

    impl ResolvesServerCert for Resolver {
        fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
            let (cert, key) = (self.0)()?;
            let chain: Vec<CertificateDer<'static>> =
                CertificateDer::pem_slice_iter(cert.as_bytes())
                    .collect::<Result<_, _>>()
                    .ok()?;
            let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).ok()?;
            let signer = rustls::crypto::ring::sign::any_supported_type(&key).ok()?;
            Some(Arc::new(CertifiedKey::new(chain, signer)))
        }
    }

    pub struct TlsServer {
        pub address: String,
        _runtime: tokio::runtime::Runtime,
    }

    impl TlsServer {
        pub fn start(source: Source) -> TlsServer {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_cert_resolver(Arc::new(Resolver(source)));
            let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
            let listener = rt
                .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
                .unwrap();
            let address = listener.local_addr().unwrap().to_string();
            rt.spawn(async move {
                while let Ok((tcp, _)) = listener.accept().await {
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        // The handshake is all a client checks.
                        let _ = acceptor.accept(tcp).await;
                    });
                }
            });
            TlsServer {
                address,
                _runtime: rt,
            }
        }

        pub fn url(&self) -> String {
            format!("https://{}/mcp", self.address)
        }
    }
}

use tls_fixture::TlsServer;

/// A TLS server serving the server's Secret as it is stored at each handshake.
fn serving_the_secret(env: &Env, server: &str) -> TlsServer {
    let shared = env.srv.shared().clone();
    let path = format!("/api/v1/namespaces/{NS}/secrets/{server}-tls");
    TlsServer::start(std::sync::Arc::new(move || {
        let s = test_apiserver::store::get_by_path(&shared, &path)?;
        Some((text(&s, "tls.crt"), text(&s, "tls.key")))
    }))
}

/// A TLS server that keeps serving `cert` (pods that never load the new Secret).
fn serving_pinned(cert: Issued) -> TlsServer {
    TlsServer::start(std::sync::Arc::new(move || {
        Some((cert.cert_pem.clone(), cert.key_pem.clone()))
    }))
}

/// `certs rotate github`, verified against pods that keep serving what
/// `secret` holds (they never load the new Secret).
fn rotate_while_pods_serve(env: &Env, secret: &Value) -> std::process::Output {
    let pods = serving_pinned(Issued {
        cert_pem: text(secret, "tls.crt"),
        key_pem: text(secret, "tls.key"),
    });
    let url = pods.url();
    env.run(&[
        "certs",
        "rotate",
        "github",
        "--verify-url",
        &url,
        "--verify-timeout",
        "1s",
    ])
}

/// A fleet applied and rolled out, with its CA.
fn applied(servers: &[&str]) -> (Env, Issued) {
    let env = env_with(servers);
    let o = env.run(&["apply", "--wait"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let ca = init_ca(&env);
    (env, ca)
}

fn fingerprint_annotation(env: &Env, deployment: &str) -> Option<String> {
    env.deployment(deployment).unwrap()["spec"]["template"]["metadata"]["annotations"]
        ["mcpctl.io/cert-fingerprint"]
        .as_str()
        .map(str::to_string)
}

fn backups(env: &Env, of: &str) -> Vec<Value> {
    let store = env.srv.shared().store.lock().unwrap();
    store
        .list("", "secrets", Some(NS))
        .map(|(_, s)| s)
        .filter(|s| s["metadata"]["labels"]["mcpctl.io/cert-backup-of"] == of)
        .cloned()
        .collect()
}

fn leaf_of(secret: &Value) -> mcpctl::certs::inspect::CertInfo {
    let chain = mcpctl::certs::pem::certs(text(secret, "tls.crt").as_bytes()).unwrap();
    mcpctl::certs::inspect::inspect(chain[0].as_ref()).unwrap()
}

fn history(env: &Env, server: &str) -> Vec<Value> {
    env.history_json(server).as_array().unwrap().clone()
}

#[test]
fn a_rotation_replaces_the_secret_in_one_write_rolls_and_verifies_what_is_served() {
    let (env, ca) = applied(&["github"]);
    // The first rotation creates the Secret (nothing to back up).
    let o = env.run(&["certs", "rotate", "github"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let first = secret(&env, "github-tls").expect("created");
    assert!(backups(&env, "github-tls").is_empty());
    let first_leaf = leaf_of(&first);
    assert_eq!(
        fingerprint_annotation(&env, "github").as_deref(),
        Some(first_leaf.fingerprint.as_str())
    );

    let tls = serving_the_secret(&env, "github");
    env.srv.clear_requests();
    let o = env.run(&[
        "certs",
        "rotate",
        "github",
        "--verify-url",
        &tls.url(),
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let result = results_of(&o);
    let now = secret(&env, "github-tls").unwrap();
    let leaf = leaf_of(&now);
    assert_eq!(result[0]["outcome"], "succeeded");
    assert_eq!(result[0]["fromSerial"], first_leaf.serial);
    assert_eq!(result[0]["toSerial"], leaf.serial);
    assert_ne!(leaf.serial, first_leaf.serial);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("serves serial {}", leaf.serial)),
        "the served certificate was checked by a handshake: {err}"
    );
    assert!(!out(&o).contains("PRIVATE KEY"), "{}", out(&o));

    // One write replaced the Secret, carrying the resourceVersion read.
    let reqs = env.srv.requests();
    let secret_writes: Vec<_> = crate::cluster_support::writes(&reqs)
        .into_iter()
        .filter(|r| r.path.ends_with("/secrets/github-tls"))
        .collect();
    assert_eq!(
        secret_writes.len(),
        1,
        "{}",
        crate::cluster_support::describe(&reqs)
    );
    assert_eq!(secret_writes[0].method, "PUT");
    // The backup holds the previous contents, labelled.
    let b = backups(&env, "github-tls");
    assert_eq!(b.len(), 1);
    assert_eq!(b[0]["data"], first["data"]);
    assert_eq!(b[0]["type"], "kubernetes.io/tls");
    // The Deployment rolled to the new fingerprint and is rolled out.
    assert_eq!(
        fingerprint_annotation(&env, "github").as_deref(),
        Some(leaf.fingerprint.as_str())
    );
    let d = env.deployment("github").unwrap();
    assert_eq!(
        d["status"]["observedGeneration"],
        d["metadata"]["generation"]
    );
    assert_eq!(d["status"]["updatedReplicas"], 1);
    // Recorded, nothing left in flight.
    let h = history(&env, "github");
    let last = h.last().unwrap();
    assert_eq!(
        (last["operation"].as_str(), last["outcome"].as_str()),
        (Some("rotate-cert"), Some("succeeded"))
    );
    assert!(env.github_state()["data"].get("inflight").is_none());
    // openssl agrees with what was installed.
    openssl_agrees(
        env.dir.path(),
        &ca.cert_pem,
        &text(&now, "tls.crt"),
        &text(&now, "tls.key"),
    );
    assert_eq!(text(&now, "ca.crt"), ca.cert_pem);
    let (ok, t) = openssl(&[
        "x509",
        "-noout",
        "-serial",
        "-in",
        &write(env.dir.path(), "n.pem", &text(&now, "tls.crt")),
    ]);
    assert!(
        ok && t.trim() == format!("serial={}", leaf.serial),
        "{t} vs {}",
        leaf.serial
    );

    // Three more: only the newest three backups stay.
    for _ in 0..3 {
        let o = env.run(&["certs", "rotate", "github"]);
        assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    }
    assert_eq!(backups(&env, "github-tls").len(), 3);
}

/// `certs rotate github --cert-file F --key-file F` with `cert`.
fn rotate_from_files(env: &Env, cert: &Issued) -> std::process::Output {
    let c = write(env.dir.path(), "new.crt", &cert.cert_pem);
    let k = write(env.dir.path(), "new.key", &cert.key_pem);
    env.run(&[
        "certs",
        "rotate",
        "github",
        "--cert-file",
        &c,
        "--key-file",
        &k,
    ])
}

#[test]
fn a_certificate_that_fails_validation_writes_nothing() {
    let (env, ca) = applied(&["github"]);
    let o = env.run(&["certs", "rotate", "github"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let before = secret(&env, "github-tls").unwrap();
    let other = issue::new_ca("other CA", now() - DAY, 365, Default::default()).unwrap();
    let a = issue::server(&ca.cert_pem, &ca.key_pem, &names("github"), now(), 365).unwrap();
    let b = issue::server(&ca.cert_pem, &ca.key_pem, &names("github"), now(), 365).unwrap();
    let cases = [
        (
            issue::server(
                &other.cert_pem,
                &other.key_pem,
                &names("github"),
                now(),
                365,
            )
            .unwrap(),
            "not issued by the fleet CA",
        ),
        (
            issue::server(&ca.cert_pem, &ca.key_pem, &names("github")[..1], now(), 365).unwrap(),
            "do not cover github.mcp",
        ),
        (
            issue::server(&ca.cert_pem, &ca.key_pem, &names("github"), now(), 30).unwrap(),
            "not later than the one it replaces",
        ),
        // A key that is not the certificate's.
        (
            Issued {
                cert_pem: a.cert_pem.clone(),
                key_pem: b.key_pem.clone(),
            },
            "private key does not belong",
        ),
    ];
    for (cert, why) in cases {
        env.srv.clear_requests();
        let o = rotate_from_files(&env, &cert);
        assert_eq!(o.status.code(), Some(1), "{}", out(&o));
        assert!(
            out(&o).contains(why) && out(&o).contains("nothing was written"),
            "{why}: {}",
            out(&o)
        );
        let reqs = env.srv.requests();
        assert!(
            crate::cluster_support::writes(&reqs).is_empty(),
            "{}",
            crate::cluster_support::describe(&reqs)
        );
    }
    assert_eq!(secret(&env, "github-tls").unwrap()["data"], before["data"]);
    // A valid one from files goes in.
    let o = rotate_from_files(&env, &a);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(
        text(&secret(&env, "github-tls").unwrap(), "tls.crt"),
        a.cert_pem
    );
}

#[test]
fn a_served_certificate_that_stays_old_restores_the_backup_and_exits_3() {
    let (env, ca) = applied(&["github"]);
    // Installed an hour ago by another tool: no fingerprint on the pods yet.
    let old = issue::server(
        &ca.cert_pem,
        &ca.key_pem,
        &names("github"),
        now() - 3600,
        90,
    )
    .unwrap();
    put_tls(&env, "github", &old, json!({}));
    let before = secret(&env, "github-tls").unwrap();
    let old_fp = fingerprint_annotation(&env, "github");
    assert_eq!(old_fp, None);
    let o = rotate_while_pods_serve(&env, &before);
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    let text_out = out(&o);
    assert!(text_out.contains("still serves serial"), "{text_out}");
    assert!(
        text_out.contains("previous certificate was put back"),
        "{text_out}"
    );
    let after = secret(&env, "github-tls").unwrap();
    assert_eq!(
        after["data"], before["data"],
        "the Secret holds the previous certificate again"
    );
    assert_eq!(
        fingerprint_annotation(&env, "github"),
        old_fp,
        "and the pods rolled back to it"
    );
    assert_eq!(backups(&env, "github-tls").len(), 1);
    let h = history(&env, "github");
    assert_eq!(h.last().unwrap()["outcome"], "restored");
}

#[test]
fn rotate_all_goes_on_past_a_failure_leaves_cert_manager_alone_and_exits_by_the_worst() {
    let (env, ca) = applied(&["alpha", "beta", "gamma", "delta"]);
    let t = now();
    // beta's certificate outlives any 90-day one: its rotation fails validation.
    let long = issue::server(&ca.cert_pem, &ca.key_pem, &names("beta"), t, 400).unwrap();
    put_tls(&env, "beta", &long, json!({}));
    // delta's belongs to cert-manager.
    let cm = issue::server(&ca.cert_pem, &ca.key_pem, &names("delta"), t, 30).unwrap();
    put_tls(
        &env,
        "delta",
        &cm,
        json!({"cert-manager.io/certificate-name": "delta-cert"}),
    );
    let delta_before = secret(&env, "delta-tls").unwrap();
    let o = env.run(&[
        "certs",
        "rotate",
        "--all",
        "--max-parallel",
        "2",
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    let rows = results_of(&o);
    let row = |s: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["server"] == s)
            .unwrap()
            .clone()
    };
    assert_eq!(row("alpha")["outcome"], "succeeded");
    assert_eq!(row("gamma")["outcome"], "succeeded");
    assert_eq!(row("beta")["outcome"], "failed");
    assert!(
        row("beta")["message"]
            .as_str()
            .unwrap()
            .contains("not later than"),
        "{}",
        row("beta")
    );
    assert_eq!(row("delta")["outcome"], "skipped");
    assert!(
        row("delta")["message"]
            .as_str()
            .unwrap()
            .contains("cmctl renew delta-cert"),
        "{}",
        row("delta")
    );
    assert!(secret(&env, "alpha-tls").is_some() && secret(&env, "gamma-tls").is_some());
    assert_eq!(
        secret(&env, "beta-tls").unwrap()["data"],
        json!({"tls.crt": b64(&long.cert_pem), "tls.key": b64(&long.key_pem)})
    );
    assert_eq!(secret(&env, "delta-tls").unwrap(), delta_before);
    // Named, a cert-manager Secret is refused with the same advice.
    let o = env.run(&["certs", "rotate", "delta"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(out(&o).contains("managed by cert-manager"), "{}", out(&o));
    // --if-expiring-within skips what is far from expiry.
    let o = env.run(&[
        "certs",
        "rotate",
        "alpha",
        "--if-expiring-within",
        "30d",
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let rows = results_of(&o);
    assert_eq!(rows[0]["outcome"], "skipped");
    // ... and rotates what expires within it.
    let o = env.run(&[
        "certs",
        "rotate",
        "alpha",
        "--if-expiring-within",
        "100d",
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let rows = results_of(&o);
    assert_eq!(rows[0]["outcome"], "succeeded");
}

/// The lock of server `github` as `holder` left it, renewed at `renewed`.
fn put_lock(env: &Env, holder: &str, renewed: &str, seconds: u32) {
    env.srv.put_object(
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "mcpctl-lock-github", "namespace": NS,
            "labels": {"mcpctl.io/record": "lock", "mcpctl.io/fleet": "acme"}},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": seconds,
            "acquireTime": renewed, "renewTime": renewed}}),
    );
}

#[test]
fn a_server_locked_by_another_operation_is_not_touched_and_exits_5() {
    let (env, _ca) = applied(&["github"]);
    let o = env.run(&["certs", "rotate", "github"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let before = secret(&env, "github-tls").unwrap();
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        .to_string();
    put_lock(&env, "ci:deploy/42", &now, 3600);
    let o = env.run(&["certs", "rotate", "github"]);
    assert_eq!(o.status.code(), Some(5), "{}", out(&o));
    assert!(
        out(&o).contains("ci:deploy/42"),
        "names the holder: {}",
        out(&o)
    );
    assert_eq!(secret(&env, "github-tls").unwrap()["data"], before["data"]);
    assert!(
        backups(&env, "github-tls").is_empty(),
        "nothing backed up either"
    );
}

#[test]
fn rollback_restores_the_newest_backup_rolls_and_verifies() {
    let (env, _ca) = applied(&["github"]);
    let o = env.run(&["certs", "rollback", "github"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(out(&o).contains("has no backup to restore"), "{}", out(&o));

    let o = env.run(&["certs", "rotate", "github"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let first = secret(&env, "github-tls").unwrap();
    let o = env.run(&["certs", "rotate", "github"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_ne!(secret(&env, "github-tls").unwrap()["data"], first["data"]);

    let pods = serving_the_secret(&env, "github");
    for _ in 0..2 {
        let o = env.run(&["certs", "rollback", "github", "--verify-url", &pods.url()]);
        assert_eq!(o.status.code(), Some(0), "{}", out(&o));
        let now = secret(&env, "github-tls").unwrap();
        assert_eq!(now["data"]["tls.crt"], first["data"]["tls.crt"]);
        assert_eq!(now["data"]["tls.key"], first["data"]["tls.key"]);
        assert_eq!(
            fingerprint_annotation(&env, "github").as_deref(),
            Some(leaf_of(&first).fingerprint.as_str())
        );
        assert!(
            out(&o).contains(&format!("serves serial {}", leaf_of(&first).serial)),
            "{}",
            out(&o)
        );
    }
    assert_eq!(
        backups(&env, "github-tls").len(),
        1,
        "a rollback takes no backup"
    );
    let h = history(&env, "github");
    assert_eq!(h.last().unwrap()["operation"], "rollback-cert");
    assert_eq!(h.last().unwrap()["outcome"], "succeeded");
}

/// A Secret name longer than a label value may be (63 characters) still gets backups that
/// `certs rollback` finds: the backups' label holds a shortened, unique form of the name.
#[test]
fn a_secret_with_a_long_name_is_backed_up_and_restored() {
    // A DNS subdomain: each dot-separated part at most 63 characters, 92 in all.
    let long = format!("github-tls.{}.{}", "x".repeat(40), "y".repeat(40));
    let env = env_with(&[]);
    env.write_fleet(&format!(
        "{}  - name: github\n    image: ghcr.io/acme/github-mcp:1.0.0\n    tls: {{secretName: {long}}}\n",
        fleet(&[])
    ));
    let o = env.run(&["apply", "--wait"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    init_ca(&env);
    let o = env.run(&["certs", "rotate", "github"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let first = secret(&env, &long).unwrap();
    let o = env.run(&["certs", "rotate", "github"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let label = mcpctl::certs::secret::backup_of(&long);
    assert!(label.len() <= 63, "{label}");
    assert_eq!(
        backups(&env, &label).len(),
        1,
        "one backup, labelled {label}"
    );
    let o = env.run(&["certs", "rollback", "github"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(
        secret(&env, &long).unwrap()["data"]["tls.crt"],
        first["data"]["tls.crt"]
    );
}

/// `mcpctl rbac --for certs` is exactly what the certificate commands need:
/// every request of a scenario (init-ca, status, a lock taken over,
/// rotations pruning backups and revisions, a restore, a rollback) is
/// allowed, and every rule is used.
#[test]
fn rbac_for_certs_allows_every_request_and_no_more() {
    let env = env_with(&["github"]);
    let o = env.run(&["apply", "--wait"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    env.srv.clear_requests();
    init_ca(&env);
    // An expired lock of a dead job, taken over by the first rotation.
    put_lock(&env, "ci:dead/1", "2026-01-01T00:00:00.000000Z", 30);
    // Enough rotations to prune backups (3 kept) and revisions (10 kept).
    for _ in 0..11 {
        let o = env.run(&["certs", "rotate", "github"]);
        assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    }
    let o = rotate_while_pods_serve(&env, &secret(&env, "github-tls").unwrap());
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    let o = env.run(&["certs", "rollback", "github"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let o = env.run(&["certs", "status"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(backups(&env, "github-tls").len(), 3);
    assert_eq!(history(&env, "github").len(), 10);
    crate::rbac::assert_exactly_needed(
        &mcpctl::rbac::rules(mcpctl::rbac::Purpose::Certs),
        &env.srv.requests(),
    );
}

/// A client that mounts the bundle: before every handshake it reads the CA
/// Secret's `ca.crt` as stored, then handshakes with `address` as
/// `alpha.mcp.svc`, trusting only that bundle. Counts what it saw.
struct BundleClient {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    seen: std::sync::Arc<std::sync::Mutex<(Vec<String>, Vec<String>)>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BundleClient {
    fn start(env: &Env, address: String) -> BundleClient {
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = std::sync::Arc::new(std::sync::Mutex::new((Vec::new(), Vec::new())));
        let shared = env.srv.shared().clone();
        let (stop2, seen2) = (stop.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let path = format!("/api/v1/namespaces/{NS}/secrets/acme-ca");
            while !stop2.load(Ordering::Relaxed) {
                let ca = test_apiserver::store::get_by_path(&shared, &path).unwrap();
                let bundle = mcpctl::certs::pem::certs(text(&ca, "ca.crt").as_bytes()).unwrap();
                let got = rt.block_on(mcpctl::certs::probe::served(
                    &address,
                    "alpha.mcp.svc",
                    &bundle,
                    std::time::Duration::from_secs(10),
                ));
                let mut s = seen2.lock().unwrap();
                match got {
                    Ok(leaf) => s.0.push(leaf.serial),
                    Err(e) => s.1.push(e),
                }
            }
        });
        BundleClient {
            stop,
            seen,
            thread: Some(thread),
        }
    }

    fn serials(&self) -> Vec<String> {
        self.seen.lock().unwrap().0.clone()
    }

    /// Stops; returns the serials served and the failures.
    fn stop(mut self) -> (Vec<String>, Vec<String>) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap();
        self.seen.lock().unwrap().clone()
    }
}

#[test]
fn a_ca_rollover_never_fails_a_client_that_trusts_the_bundle() {
    let (env, old_ca) = applied(&["alpha", "beta"]);
    let o = env.run(&["certs", "rotate", "--all"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let alpha_old = leaf_of(&secret(&env, "alpha-tls").unwrap()).serial;
    let beta_old = secret(&env, "beta-tls").unwrap();
    let pods = serving_the_secret(&env, "alpha");
    let client = BundleClient::start(&env, pods.address.clone());
    wait_until("a handshake before the rollover", || {
        client.serials().contains(&alpha_old)
    });

    let o = env.run(&["certs", "rotate-ca"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        out(&o).contains("published the trust bundle"),
        "{}",
        out(&o)
    );
    let ca = secret(&env, "acme-ca").unwrap();
    let new_ca = text(&ca, "tls.crt");
    assert_ne!(new_ca, old_ca.cert_pem);
    assert_eq!(
        text(&ca, "ca.crt"),
        format!("{}{new_ca}", old_ca.cert_pem),
        "old and new"
    );
    let alpha_new = leaf_of(&secret(&env, "alpha-tls").unwrap()).serial;
    assert_ne!(alpha_new, alpha_old);
    wait_until("a handshake after the rollover", || {
        client.serials().contains(&alpha_new)
    });
    // Both servers now carry certificates of the new CA, which openssl agrees with.
    for s in ["alpha", "beta"] {
        let sec = secret(&env, &format!("{s}-tls")).unwrap();
        let cert = write(env.dir.path(), "leaf.pem", &text(&sec, "tls.crt"));
        let only_new = write(env.dir.path(), "new-ca.pem", &new_ca);
        let (ok, t) = openssl(&["verify", "-CAfile", &only_new, &cert]);
        assert!(ok, "{s}: {t}");
    }
    // status says where the rollover stands.
    let o = env.run(&["certs", "status"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        out(&o).contains("2 of 2 servers carry a certificate of the new CA"),
        "{}",
        out(&o)
    );

    // A server put back on an old-CA certificate holds the old CA in the bundle.
    env.srv.put_object(beta_old.clone());
    let o = env.run(&["certs", "rotate-ca", "--finish"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(out(&o).contains("beta still carry"), "{}", out(&o));
    assert_eq!(
        text(&secret(&env, "acme-ca").unwrap(), "ca.crt"),
        text(&ca, "ca.crt")
    );
    // Running it again re-issues beta only.
    let o = env.run(&["certs", "rotate-ca", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let rows = results_of(&o);
    let outcome = |s: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["server"] == s)
            .unwrap()["outcome"]
            .clone()
    };
    assert_eq!(outcome("alpha"), "skipped");
    assert_eq!(outcome("beta"), "succeeded");
    assert_eq!(
        text(&secret(&env, "acme-ca").unwrap(), "tls.crt"),
        new_ca,
        "the same new CA"
    );

    let o = env.run(&["certs", "rotate-ca", "--finish"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let ca = secret(&env, "acme-ca").unwrap();
    assert_eq!(text(&ca, "ca.crt"), new_ca, "the old CA is dropped");
    assert!(ca["metadata"]["annotations"]["mcpctl.io/ca-rollover-since"].is_null());
    let n = client.serials().len();
    wait_until("a handshake after the finish", || {
        client.serials().len() > n
    });
    let (serials, failures) = client.stop();
    assert!(
        failures.is_empty(),
        "{} handshakes failed: {failures:?}",
        failures.len()
    );
    assert!(serials.len() >= 3, "{serials:?}");
    // A client that trusts only the old CA is now refused.
    let old = mcpctl::certs::pem::certs(old_ca.cert_pem.as_bytes()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let r = rt.block_on(mcpctl::certs::probe::served(
        &pods.address,
        "alpha.mcp.svc",
        &old,
        std::time::Duration::from_secs(10),
    ));
    assert!(r.is_err(), "the old CA no longer verifies alpha");
}

#[test]
fn a_roll_that_never_finishes_even_on_restore_exits_7_and_says_what_the_secret_holds() {
    let (env, _ca) = applied(&["github"]);
    let o = env.run(&["certs", "rotate", "github"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let before = secret(&env, "github-tls").unwrap();
    let fp = fingerprint_annotation(&env, "github");
    env.srv
        .set_deployment_behaviour(NS, "github", test_apiserver::Behaviour::NeverReady);
    let o = env.run(&["certs", "rotate", "github", "--timeout", "2s"]);
    assert_eq!(o.status.code(), Some(7), "{}", out(&o));
    assert!(
        out(&o).contains(
            "holds the previous certificate again, but the Deployments did not roll back"
        ),
        "{}",
        out(&o)
    );
    assert_eq!(secret(&env, "github-tls").unwrap()["data"], before["data"]);
    assert_eq!(
        fingerprint_annotation(&env, "github"),
        fp,
        "the pods were sent back to the template they had"
    );
    // The change stays in flight: a deploy refuses, naming the certs commands.
    let state = env.github_state();
    let inflight: Value =
        serde_json::from_str(state["data"]["inflight"].as_str().unwrap()).unwrap();
    assert_eq!(inflight["kind"], "rotate-cert");
    let o = env.run(&[
        "deploy",
        "github",
        "--no-smoke",
        "--image",
        "ghcr.io/acme/github-mcp:2.0.0",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    assert!(
        out(&o).contains("mcpctl certs rollback github"),
        "{}",
        out(&o)
    );
    // Once the pods can start, a rotation takes the interrupted change over.
    env.srv.set_deployment_behaviour(
        NS,
        "github",
        test_apiserver::Behaviour::ReadyAfter(std::time::Duration::from_millis(100)),
    );
    let o = env.run(&["certs", "rotate", "github"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(env.github_state()["data"].get("inflight").is_none());
}

#[test]
fn an_rsa_ca_made_by_openssl_issues_and_status_reads_rsa_keys() {
    let env = env_with(&["github"]);
    let dir = env.dir.path();
    let (crt, key) = openssl_ca(dir, "rsa-ca", &["rsa:2048"]);
    let o = env.run(&[
        "certs",
        "init-ca",
        "--import-cert",
        &crt,
        "--import-key",
        &key,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let o = env.run(&["certs", "rotate", "github"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let s = secret(&env, "github-tls").unwrap();
    openssl_agrees(
        dir,
        &std::fs::read_to_string(&crt).unwrap(),
        &text(&s, "tls.crt"),
        &text(&s, "tls.key"),
    );
    // An RSA server key of openssl's, installed from files, is read as RSA 2048.
    let lkey = dir.join("leaf.key").to_string_lossy().into_owned();
    let csr = dir.join("leaf.csr").to_string_lossy().into_owned();
    let lcrt = dir.join("leaf.crt").to_string_lossy().into_owned();
    let ext = write(
        dir,
        "ext.cnf",
        &format!(
            "subjectAltName={}\n",
            names("github")
                .iter()
                .map(|n| format!("DNS:{n}"))
                .collect::<Vec<_>>()
                .join(",")
        ),
    );
    let (ok, t) = openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        &lkey,
        "-out",
        &csr,
        "-subj",
        "/CN=github",
    ]);
    assert!(ok, "{t}");
    let (ok, t) = openssl(&[
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &crt,
        "-CAkey",
        &key,
        "-CAcreateserial",
        "-days",
        "200",
        "-out",
        &lcrt,
        "-extfile",
        &ext,
    ]);
    assert!(ok, "{t}");
    let o = env.run(&[
        "certs",
        "rotate",
        "github",
        "--cert-file",
        &lcrt,
        "--key-file",
        &lkey,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let (code, v, text_out) = status_json(&env, &[]);
    assert_eq!(code, Some(0), "{text_out}");
    assert_eq!(v[0]["certificate"]["keyType"], "RSA");
    assert_eq!(v[0]["certificate"]["keyBits"], 2048);
    assert_eq!(v[0]["keyMatches"], true);
    assert_eq!(v[0]["chainVerifies"], true);
}

#[test]
fn the_fleet_files_extra_dns_names_are_issued_and_required() {
    let env = env_with(&["github"]);
    env.write_fleet(&fleet(&["github"]).replace("tls: {}", "tls: {dnsNames: [mcp.example.com]}"));
    let ca = init_ca(&env);
    let o = env.run(&["certs", "rotate", "github"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let leaf = leaf_of(&secret(&env, "github-tls").unwrap());
    assert_eq!(
        leaf.sans.last().map(String::as_str),
        Some("mcp.example.com")
    );
    // A certificate without it misses a name.
    let without = issue::server(&ca.cert_pem, &ca.key_pem, &names("github"), now(), 365).unwrap();
    put_tls(&env, "github", &without, json!({}));
    let (code, v, text_out) = status_json(&env, &[]);
    assert_eq!(code, Some(1), "{text_out}");
    assert_eq!(v[0]["missingNames"], json!(["mcp.example.com"]));
}

#[test]
fn apply_and_diff_leave_the_certificate_fingerprint_alone() {
    let (env, _ca) = applied(&["github"]);
    let o = env.run(&["certs", "rotate", "github"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let fp = fingerprint_annotation(&env, "github");
    assert!(fp.is_some());
    let o = env.run(&["diff"]);
    assert_eq!(o.status.code(), Some(0), "no difference: {}", out(&o));
    let o = env.run(&["apply", "--wait"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(fingerprint_annotation(&env, "github"), fp, "apply keeps it");
}

#[test]
fn rotate_events_as_ndjson_keep_stdout_one_json_object_per_line() {
    let (env, _ca) = applied(&["github"]);
    let o = env.run(&["--events", "ndjson", "certs", "rotate", "github"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let events: Vec<Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"operationStarted"), "{kinds:?}");
    assert!(kinds.contains(&"waiting"), "{kinds:?}");
    let finished = events.iter().find(|e| e["event"] == "finished").unwrap();
    assert_eq!(finished["outcome"], "succeeded");
    assert!(!String::from_utf8_lossy(&o.stdout).contains("PRIVATE KEY"));
}

#[test]
fn rsa_keys_on_request_for_the_ca_and_the_server_certificates() {
    let env = env_with(&["github"]);
    let dir = env.dir.path();
    let o = env.run(&["certs", "init-ca", "--key-type", "rsa-2048"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let ca = secret(&env, "acme-ca").unwrap();
    let ca_pem = text(&ca, "tls.crt");
    let ca_file = write(dir, "ca-only.pem", &ca_pem);
    let (ok, t) = openssl(&["x509", "-noout", "-text", "-in", &ca_file]);
    assert!(ok, "{t}");
    assert!(
        t.contains("rsaEncryption") && t.contains("(2048 bit)"),
        "{t}"
    );
    assert!(t.contains("sha256WithRSAEncryption"), "{t}");
    let o = env.run(&["certs", "rotate", "github", "--key-type", "rsa-3072"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let s = secret(&env, "github-tls").unwrap();
    openssl_agrees(dir, &ca_pem, &text(&s, "tls.crt"), &text(&s, "tls.key"));
    let (code, v, text_out) = status_json(&env, &[]);
    assert_eq!(code, Some(0), "{text_out}");
    assert_eq!(v[0]["certificate"]["keyType"], "RSA");
    assert_eq!(v[0]["certificate"]["keyBits"], 3072);
    assert_eq!(v[0]["chainVerifies"], true);
    // Files given: no key is issued, so a key type makes no sense.
    let o = env.run(&[
        "certs",
        "rotate",
        "github",
        "--key-type",
        "rsa-2048",
        "--cert-file",
        "a",
        "--key-file",
        "b",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
}

/// Waits (generously) until `done` holds; fails naming `what` otherwise.
fn wait_until(what: &str, done: impl FnMut() -> bool) {
    crate::cluster_apply::wait_until_within(60, &format!("never happened: {what}"), done);
}
