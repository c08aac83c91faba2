//! PEM in, DER out. A Secret's `tls.crt` may hold a chain (leaf first); its
//! `tls.key` one private key in PKCS#8, PKCS#1 (RSA) or SEC1 (EC) form.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Every certificate of a PEM text, in order; none is an error.
pub fn certs(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("not valid PEM: {e}"))?;
    if certs.is_empty() {
        return Err("no PEM CERTIFICATE block found".into());
    }
    Ok(certs)
}

/// The private key of a PEM text. The error never quotes the text.
pub fn key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => {
            "no PEM PRIVATE KEY block found (PKCS#8, RSA or EC)".to_string()
        }
        _ => "the private key is not valid PEM".to_string(),
    })
}

/// DER certificates as PEM text.
pub fn certs_to_pem(certs: &[CertificateDer<'_>]) -> String {
    certs
        .iter()
        .map(|c| block("CERTIFICATE", c.as_ref()))
        .collect()
}

/// One PEM block: base64 in lines of 64 characters (RFC 7468).
pub fn block(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
