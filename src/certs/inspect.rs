//! What a certificate says, in the terms `certs status` shows: public data
//! only (a [`CertInfo`] never holds key material).

use serde::Serialize;
use x509_parser::prelude::*;

/// The public facts of one certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    /// Hex, upper case, whole bytes without leading zero bytes (as
    /// `openssl x509 -serial` prints it).
    pub serial: String,
    /// DNS (and IP) subject alternative names.
    pub sans: Vec<String>,
    /// Unix seconds.
    pub not_before: i64,
    /// Unix seconds.
    pub not_after: i64,
    /// "ECDSA P-256", "RSA", "Ed25519"…
    pub key_type: String,
    pub key_bits: u32,
    /// SHA-256 of the DER certificate, lower-case hex.
    pub fingerprint: String,
    pub is_ca: bool,
    /// The DER SubjectPublicKeyInfo (to match against a private key).
    #[serde(skip)]
    pub spki: Vec<u8>,
}

/// SHA-256 of `der`, lower-case hex.
pub fn fingerprint(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Reads one DER certificate.
pub fn inspect(der: &[u8]) -> Result<CertInfo, String> {
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let mut sans = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for n in &ext.value.general_names {
            match n {
                GeneralName::DNSName(d) => sans.push(d.to_string()),
                GeneralName::IPAddress(ip) => sans.push(ip_text(ip)),
                _ => {}
            }
        }
    }
    let spki = cert.public_key();
    let (key_type, key_bits) = key_kind(spki);
    Ok(CertInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: serial_hex(cert.raw_serial()),
        sans,
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        key_type,
        key_bits,
        fingerprint: fingerprint(der),
        is_ca: cert.is_ca(),
        spki: spki.raw.to_vec(),
    })
}

/// A serial as openssl prints it: two hex digits per byte, leading zero
/// bytes dropped (one kept for zero).
pub fn serial_hex(raw: &[u8]) -> String {
    let start = raw
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(raw.len().saturating_sub(1));
    raw[start..].iter().map(|b| format!("{b:02X}")).collect()
}

/// Bits of a big-endian modulus (leading zero bytes and bits not counted).
fn modulus_bits(m: &[u8]) -> u32 {
    let m: Vec<u8> = m.iter().copied().skip_while(|b| *b == 0).collect();
    match m.first() {
        Some(first) => (m.len() as u32) * 8 - first.leading_zeros(),
        None => 0,
    }
}

fn ip_text(b: &[u8]) -> String {
    match b.len() {
        4 => std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string(),
        16 => {
            let a: [u8; 16] = b.try_into().expect("16 bytes");
            std::net::Ipv6Addr::from(a).to_string()
        }
        _ => "?".into(),
    }
}

/// The key's algorithm and size, from the SubjectPublicKeyInfo.
fn key_kind(spki: &SubjectPublicKeyInfo<'_>) -> (String, u32) {
    use x509_parser::public_key::PublicKey;
    match spki.parsed() {
        Ok(PublicKey::RSA(k)) => ("RSA".into(), modulus_bits(k.modulus)),
        Ok(PublicKey::EC(p)) => {
            let bits = p.key_size() as u32;
            let curve = match bits {
                256 => "ECDSA P-256".to_string(),
                384 => "ECDSA P-384".to_string(),
                521 => "ECDSA P-521".to_string(),
                _ => "ECDSA".to_string(),
            };
            (curve, bits)
        }
        _ if spki.algorithm.algorithm.to_id_string() == "1.3.101.112" => ("Ed25519".into(), 256),
        _ => (spki.algorithm.algorithm.to_id_string(), 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_print_whole_bytes_like_openssl() {
        assert_eq!(serial_hex(&[0x00, 0x0b, 0x77]), "0B77");
        assert_eq!(serial_hex(&[0x7f, 0x01]), "7F01");
        assert_eq!(serial_hex(&[0x00]), "00");
    }
}
