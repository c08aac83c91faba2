//! The checks a certificate must pass, as pure functions of the PEM texts,
//! the fleet CA and the time: before a rotation writes anything, and for
//! `certs status`.

use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use super::inspect::{self, CertInfo};
use super::pem;

/// A certificate chain and its key, read and inspected.
#[derive(Debug, Clone)]
pub struct Pair {
    /// Leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    pub leaf: CertInfo,
    /// The private key's SubjectPublicKeyInfo; `Err` says why the key
    /// cannot be read (never quoting it).
    pub key_spki: Result<Vec<u8>, String>,
}

impl Pair {
    /// Reads `tls.crt` and `tls.key` texts.
    pub fn read(cert_pem: &[u8], key_pem: &[u8]) -> Result<Pair, String> {
        let chain = pem::certs(cert_pem).map_err(|e| format!("the certificate: {e}"))?;
        let leaf = inspect::inspect(chain[0].as_ref())?;
        let key_spki = pem::key(key_pem).and_then(|k| key_spki(&k));
        Ok(Pair {
            chain,
            leaf,
            key_spki,
        })
    }

    /// Whether the private key is the certificate's.
    pub fn key_matches(&self) -> bool {
        self.key_spki.as_ref().is_ok_and(|k| *k == self.leaf.spki)
    }
}

/// The public key (SubjectPublicKeyInfo DER) of a private key.
pub fn key_spki(key: &PrivateKeyDer<'_>) -> Result<Vec<u8>, String> {
    let signer = rustls::crypto::ring::sign::any_supported_type(key)
        .map_err(|_| "the private key is not a supported ECDSA, Ed25519 or RSA key".to_string())?;
    signer
        .public_key()
        .map(|k| k.as_ref().to_vec())
        .ok_or_else(|| "the public key of the private key cannot be derived".to_string())
}

/// Whether `chain` (leaf first) verifies up to one of `trust` (the fleet
/// CA, or a bundle of CAs) for server authentication. The time checked is
/// `now` clamped into the leaf's validity, so that this says whether the
/// CA signed it; expiry is judged on its own.
pub fn chain_verifies(
    chain: &[CertificateDer<'_>],
    leaf: &CertInfo,
    trust: &[CertificateDer<'_>],
    now: i64,
) -> Result<(), String> {
    let anchors: Vec<_> = trust
        .iter()
        .map(|c| {
            webpki::anchor_from_trusted_cert(c)
                .map(|a| a.to_owned())
                .map_err(|e| format!("the CA certificate is not usable as a trust anchor: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let ee = webpki::EndEntityCert::try_from(&chain[0])
        .map_err(|e| format!("the certificate cannot be parsed for verification: {e}"))?;
    let at = now.clamp(leaf.not_before, leaf.not_after).max(0) as u64;
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        &chain[1..],
        UnixTime::since_unix_epoch(std::time::Duration::from_secs(at)),
        webpki::KeyUsage::server_auth(),
        None,
        None,
    )
    .map(|_| ())
    .map_err(|e| match e {
        webpki::Error::UnknownIssuer => {
            "it was not issued by the fleet CA (unknown issuer)".to_string()
        }
        webpki::Error::InvalidSignatureForPublicKey => {
            "its signature does not verify with the CA".to_string()
        }
        other => format!("it does not verify against the fleet CA: {other:?}"),
    })
}

/// The names of `required` the certificate does not cover (wildcards
/// count, as a TLS client would judge them).
pub fn missing_names(leaf: &CertificateDer<'_>, required: &[String]) -> Vec<String> {
    let Ok(ee) = webpki::EndEntityCert::try_from(leaf) else {
        return required.to_vec();
    };
    required
        .iter()
        .filter(|n| match ServerName::try_from(n.as_str()) {
            Ok(name) => ee.verify_is_valid_for_subject_name(&name).is_err(),
            Err(_) => true,
        })
        .cloned()
        .collect()
}

/// Everything wrong with a new certificate about to replace `old`: key
/// mismatch, chain, names, not-before in the future, not-after not later
/// than the old one's. Empty when it may be written.
pub fn check_new(
    new: &Pair,
    old: Option<&CertInfo>,
    trust: &[CertificateDer<'_>],
    required: &[String],
    now: i64,
) -> Vec<String> {
    let mut problems = Vec::new();
    match &new.key_spki {
        Err(e) => problems.push(e.clone()),
        Ok(_) if !new.key_matches() => {
            problems.push("the private key does not belong to the certificate".into())
        }
        Ok(_) => {}
    }
    if let Err(e) = chain_verifies(&new.chain, &new.leaf, trust, now) {
        problems.push(format!("the certificate does not verify: {e}"));
    }
    let missing = missing_names(&new.chain[0], required);
    if !missing.is_empty() {
        problems.push(format!(
            "the certificate's SANs do not cover {}",
            missing.join(", ")
        ));
    }
    if new.leaf.not_before > now {
        problems.push(format!(
            "the certificate is not valid before {} (in the future)",
            date(new.leaf.not_before)
        ));
    }
    if new.leaf.not_after <= now {
        problems.push(format!(
            "the certificate expired on {}",
            date(new.leaf.not_after)
        ));
    }
    if let Some(old) = old
        && new.leaf.not_after <= old.not_after
    {
        problems.push(format!(
            "the certificate expires on {}, not later than the one it replaces ({})",
            date(new.leaf.not_after),
            date(old.not_after)
        ));
    }
    problems
}

/// RFC 3339 UTC, to the second.
pub fn date(unix: i64) -> String {
    jiff::Timestamp::from_second(unix)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|_| unix.to_string())
}
