//! The checks on real certificates issued here: each problem `status` and
//! `rotate` must see, seen.

use super::inspect;
use super::issue::{self, Issued};
use super::names;
use super::pem;
use super::report::{self, Input, Level};
use super::secret;
use super::validate::{self, Pair};

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

fn required() -> Vec<String> {
    names::required(&["gh".into(), "gh-preview".into()], "mcp", &[])
}

fn ca() -> Issued {
    issue::new_ca("acme fleet CA", NOW - 10 * DAY, 3650, Default::default()).unwrap()
}

fn server(ca: &Issued, names: &[String], now: i64, days: u32) -> Issued {
    issue::server(&ca.cert_pem, &ca.key_pem, names, now, days).unwrap()
}

fn pair(i: &Issued) -> Pair {
    Pair::read(i.cert_pem.as_bytes(), i.key_pem.as_bytes()).unwrap()
}

fn status(ca: &Issued, cert: &Issued, warn_days: u32) -> report::CertStatus {
    let s = secret::tls_secret("mcp", "gh-tls", &cert.cert_pem, &cert.key_pem, &ca.cert_pem);
    let trust = pem::certs(ca.cert_pem.as_bytes()).unwrap();
    let req = required();
    report::evaluate(&Input {
        server: "gh",
        secret_name: "gh-tls",
        secret: Some(&s),
        trust: Ok(&trust),
        required: &req,
        now: NOW,
        warn_days,
    })
}

#[test]
fn an_issued_certificate_passes_every_check() {
    let ca = ca();
    let c = server(&ca, &required(), NOW, 90);
    let p = pair(&c);
    assert!(p.key_matches());
    let info = &p.leaf;
    assert_eq!(info.key_type, "ECDSA P-256");
    assert_eq!(info.key_bits, 256);
    assert_eq!(info.sans, required());
    assert_eq!(info.not_after - NOW, 90 * DAY);
    assert!(info.not_before <= NOW);
    assert!(info.subject.contains("CN=gh"), "{}", info.subject);
    assert!(info.issuer.contains("acme fleet CA"), "{}", info.issuer);
    let trust = pem::certs(ca.cert_pem.as_bytes()).unwrap();
    assert!(validate::check_new(&p, None, &trust, &required(), NOW).is_empty());
    let st = status(&ca, &c, 30);
    assert_eq!(st.level, Level::Ok, "{:?}", st.problems);
    assert_eq!(st.state, "ok");
    assert_eq!(st.days_left, Some(90));
    assert_eq!(st.chain_verifies, Some(true));
    assert_eq!(st.key_matches, Some(true));
}

#[test]
fn the_ca_is_a_ca_and_serials_differ() {
    let ca = ca();
    let info = inspect::inspect(pem::certs(ca.cert_pem.as_bytes()).unwrap()[0].as_ref()).unwrap();
    assert!(info.is_ca);
    let a = pair(&server(&ca, &required(), NOW, 90)).leaf.serial;
    let b = pair(&server(&ca, &required(), NOW, 90)).leaf.serial;
    assert_ne!(a, b);
    assert!(a.len().is_multiple_of(2) && !a.starts_with("00"), "{a}");
}

#[test]
fn expiring_within_the_warning_window_is_its_own_level() {
    let ca = ca();
    let c = server(&ca, &required(), NOW - 80 * DAY, 90);
    let st = status(&ca, &c, 30);
    assert_eq!(st.level, Level::ExpiresSoon, "{:?}", st.problems);
    assert_eq!(st.days_left, Some(10));
    assert_eq!(status(&ca, &c, 5).level, Level::Ok);
}

#[test]
fn expired_is_bad() {
    let ca = ca();
    let c = server(&ca, &required(), NOW - 100 * DAY, 90);
    let st = status(&ca, &c, 30);
    assert_eq!((st.level, st.state.as_str()), (Level::Bad, "expired"));
    assert_eq!(st.days_left, Some(-10));
    // The chain itself is still the CA's.
    assert_eq!(st.chain_verifies, Some(true));
}

#[test]
fn a_key_of_another_certificate_is_a_mismatch() {
    let ca = ca();
    let a = server(&ca, &required(), NOW, 90);
    let b = server(&ca, &required(), NOW, 90);
    let mixed = Issued {
        cert_pem: a.cert_pem.clone(),
        key_pem: b.key_pem.clone(),
    };
    let st = status(&ca, &mixed, 30);
    assert_eq!((st.level, st.state.as_str()), (Level::Bad, "key-mismatch"));
    let trust = pem::certs(ca.cert_pem.as_bytes()).unwrap();
    let problems = validate::check_new(&pair(&mixed), None, &trust, &required(), NOW);
    assert_eq!(
        problems,
        ["the private key does not belong to the certificate"]
    );
}

#[test]
fn a_certificate_of_another_ca_does_not_verify() {
    let ca = ca();
    let other = issue::new_ca("other CA", NOW - DAY, 365, Default::default()).unwrap();
    let c = server(&other, &required(), NOW, 90);
    let st = status(&ca, &c, 30);
    assert_eq!((st.level, st.state.as_str()), (Level::Bad, "wrong-ca"));
    assert_eq!(st.chain_verifies, Some(false));
    assert!(
        st.problems[0].contains("not issued by the fleet CA"),
        "{:?}",
        st.problems
    );
}

#[test]
fn missing_names_are_listed() {
    let ca = ca();
    let c = server(&ca, &required()[..4], NOW, 90);
    let st = status(&ca, &c, 30);
    assert_eq!((st.level, st.state.as_str()), (Level::Bad, "missing-san"));
    assert_eq!(st.missing_names, required()[4..]);
}

#[test]
fn a_wildcard_covers_the_names_below_it() {
    let ca = ca();
    let c = server(&ca, &["*.mcp.svc".to_string()], NOW, 90);
    let p = pair(&c);
    assert!(validate::missing_names(&p.chain[0], &["gh.mcp.svc".into()]).is_empty());
    assert_eq!(
        validate::missing_names(&p.chain[0], &["gh.mcp".into()]),
        ["gh.mcp"]
    );
}

#[test]
fn a_rotation_refuses_what_is_not_an_improvement() {
    let ca = ca();
    let trust = pem::certs(ca.cert_pem.as_bytes()).unwrap();
    let old = pair(&server(&ca, &required(), NOW, 90)).leaf;
    let shorter = pair(&server(&ca, &required(), NOW, 30));
    let p = validate::check_new(&shorter, Some(&old), &trust, &required(), NOW);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].contains("not later than the one it replaces"), "{p:?}");
    let future = pair(&server(&ca, &required(), NOW + 2 * DAY, 90));
    let p = validate::check_new(&future, Some(&old), &trust, &required(), NOW);
    assert!(p.iter().any(|m| m.contains("in the future")), "{p:?}");
}

#[test]
fn a_missing_or_broken_secret_is_bad() {
    let req = required();
    let input = |s| Input {
        server: "gh",
        secret_name: "gh-tls",
        secret: s,
        trust: Err("no CA".into()),
        required: &req,
        now: NOW,
        warn_days: 30,
    };
    let st = report::evaluate(&input(None));
    assert_eq!((st.level, st.state.as_str()), (Level::Bad, "missing"));
    let junk = serde_json::json!({"metadata": {}, "data": {"tls.crt": "eA==", "tls.key": "eA=="}});
    let st = report::evaluate(&input(Some(&junk)));
    assert_eq!((st.level, st.state.as_str()), (Level::Bad, "invalid"));
}

#[test]
fn errors_and_debug_output_never_show_a_key() {
    let ca = ca();
    let c = server(&ca, &required(), NOW, 90);
    let body: String = c
        .key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(!format!("{c:?}").contains(&body[..20]));
    let st = status(&ca, &c, 30);
    assert!(!serde_json::to_string(&st).unwrap().contains(&body[..20]));
    let bad = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        &body[..40]
    );
    let e = pem::key(bad.as_bytes()).and_then(|k| validate::key_spki(&k));
    assert!(!e.unwrap_err().contains(&body[..20]));
}
