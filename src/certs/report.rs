//! One server's certificate status, judged from its Secret, the fleet CA,
//! the names it must cover and the time; and the verdict over a fleet.

use rustls::pki_types::CertificateDer;
use serde::Serialize;
use serde_json::Value;

use super::inspect::CertInfo;
use super::secret::{self, Manager};
use super::validate::{self, Pair};

/// How bad a certificate's state is, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    Ok,
    /// Valid, but expires within the warning window.
    ExpiresSoon,
    /// Expired, missing, mismatched, not from the CA, not covering a name.
    Bad,
}

/// The status of one server's certificate. Public data only.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertStatus {
    pub server: String,
    pub secret: String,
    pub level: Level,
    /// ok, expires-soon, expired, missing, invalid, key-mismatch, wrong-ca,
    /// missing-san, not-yet-valid: the worst problem.
    pub state: String,
    /// Every problem found, in words.
    pub problems: Vec<String>,
    pub manager: Manager,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_matches: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain_verifies: Option<bool>,
    pub required_names: Vec<String>,
    pub missing_names: Vec<String>,
}

/// What status needs to judge one server.
pub struct Input<'a> {
    pub server: &'a str,
    pub secret_name: &'a str,
    pub secret: Option<&'a Value>,
    /// The fleet CA bundle; `Err` says why there is none.
    pub trust: Result<&'a [CertificateDer<'static>], String>,
    pub required: &'a [String],
    /// Unix seconds.
    pub now: i64,
    pub warn_days: u32,
}

/// Whole days from `now` to `t` (negative once past).
pub fn days_left(t: i64, now: i64) -> i64 {
    (t - now).div_euclid(86_400)
}

/// Judges one server's certificate.
pub fn evaluate(i: &Input<'_>) -> CertStatus {
    let mut st = CertStatus {
        server: i.server.to_string(),
        secret: i.secret_name.to_string(),
        level: Level::Ok,
        state: "ok".into(),
        problems: Vec::new(),
        manager: i.secret.map_or(Manager::Unknown, secret::manager),
        certificate: None,
        not_before: None,
        not_after: None,
        days_left: None,
        key_matches: None,
        chain_verifies: None,
        required_names: i.required.to_vec(),
        missing_names: Vec::new(),
    };
    let bad = |st: &mut CertStatus, state: &str, why: String| {
        if st.level < Level::Bad {
            st.state = state.to_string();
        }
        st.level = Level::Bad;
        st.problems.push(why);
    };
    let Some(sec) = i.secret else {
        bad(
            &mut st,
            "missing",
            format!(
                "Secret {} does not exist: create it with `mcpctl certs rotate {}`",
                i.secret_name, i.server
            ),
        );
        return st;
    };
    let (Some(crt), Some(key)) = (secret::data(sec, "tls.crt"), secret::data(sec, "tls.key"))
    else {
        bad(
            &mut st,
            "invalid",
            format!(
                "Secret {} lacks tls.crt or tls.key (or they are not base64)",
                i.secret_name
            ),
        );
        return st;
    };
    let pair = match Pair::read(&crt, &key) {
        Ok(p) => p,
        Err(e) => {
            bad(&mut st, "invalid", format!("Secret {}: {e}", i.secret_name));
            return st;
        }
    };
    let leaf = pair.leaf.clone();
    st.not_before = Some(validate::date(leaf.not_before));
    st.not_after = Some(validate::date(leaf.not_after));
    st.days_left = Some(days_left(leaf.not_after, i.now));
    st.key_matches = Some(pair.key_matches());
    if leaf.not_after <= i.now {
        bad(
            &mut st,
            "expired",
            format!("expired on {}", validate::date(leaf.not_after)),
        );
    }
    if !pair.key_matches() {
        let why = match &pair.key_spki {
            Err(e) => format!("tls.key: {e}"),
            Ok(_) => "tls.key is not the certificate's private key".into(),
        };
        bad(&mut st, "key-mismatch", why);
    }
    match &i.trust {
        Ok(trust) => {
            let r = validate::chain_verifies(&pair.chain, &leaf, trust, i.now);
            st.chain_verifies = Some(r.is_ok());
            if let Err(e) = r {
                bad(&mut st, "wrong-ca", e);
            }
        }
        Err(why) => bad(&mut st, "wrong-ca", why.clone()),
    }
    st.missing_names = validate::missing_names(&pair.chain[0], i.required);
    if !st.missing_names.is_empty() {
        let why = format!("the SANs do not cover {}", st.missing_names.join(", "));
        bad(&mut st, "missing-san", why);
    }
    if leaf.not_before > i.now {
        let why = format!("not valid before {}", validate::date(leaf.not_before));
        bad(&mut st, "not-yet-valid", why);
    }
    if st.level == Level::Ok && leaf.not_after <= i.now + i64::from(i.warn_days) * 86_400 {
        st.level = Level::ExpiresSoon;
        st.state = "expires-soon".into();
        st.problems.push(format!(
            "expires in {} days (on {}), within the {} days warned of",
            days_left(leaf.not_after, i.now),
            validate::date(leaf.not_after),
            i.warn_days
        ));
    }
    st.certificate = Some(leaf);
    st
}

/// The worst level among `statuses` (`Ok` for none).
pub fn worst(statuses: &[CertStatus]) -> Level {
    statuses.iter().map(|s| s.level).max().unwrap_or(Level::Ok)
}
