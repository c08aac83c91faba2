//! Issuing with rcgen: the fleet CA and server certificates signed by it.
//! Keys are ECDSA P-256 by default; RSA on request (`--key-type rsa-2048`…),
//! generated with the `rsa` crate (ring signs with RSA keys but cannot make
//! them) and signed with SHA-256.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};

/// A certificate and its private key, as PEM. `Debug` never shows the key.
#[derive(Clone)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// The kind of key a new certificate gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyType {
    #[default]
    EcdsaP256,
    /// RSA with this many bits (2048, 3072 or 4096).
    Rsa(usize),
}

impl KeyType {
    /// A new key of this type, ready to sign.
    pub fn generate(self) -> Result<KeyPair, String> {
        match self {
            KeyType::EcdsaP256 => {
                KeyPair::generate().map_err(|e| format!("cannot generate a key: {e}"))
            }
            KeyType::Rsa(bits) => {
                use rsa::pkcs8::EncodePrivateKey;
                let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, bits)
                    .map_err(|e| format!("cannot generate an RSA-{bits} key: {e}"))?;
                let der = key
                    .to_pkcs8_der()
                    .map_err(|e| format!("cannot encode the RSA key: {e}"))?;
                KeyPair::from_pkcs8_der_and_sign_algo(
                    &der.as_bytes().into(),
                    &rcgen::PKCS_RSA_SHA256,
                )
                .map_err(|e| format!("cannot sign with the RSA key: {e}"))
            }
        }
    }
}

/// Certificates are valid from a minute before "now", so that a clock a
/// little behind the issuer's still accepts them.
const BACKDATE_SECONDS: i64 = 60;

fn time(unix: i64) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::from_unix_timestamp(unix).map_err(|e| format!("bad time {unix}: {e}"))
}

/// A random positive 128-bit serial (RFC 5280 allows up to 20 octets).
fn serial() -> SerialNumber {
    let mut b: [u8; 16] = rand::random();
    b[0] &= 0x7f;
    b[0] |= 0x01;
    SerialNumber::from_slice(&b)
}

fn validity(p: &mut CertificateParams, now: i64, days: u32) -> Result<(), String> {
    p.not_before = time(now - BACKDATE_SECONDS)?;
    p.not_after = time(now + i64::from(days) * 86_400)?;
    Ok(())
}

/// A new self-signed CA named `common_name`, valid `days` from `now` (unix seconds).
pub fn new_ca(common_name: &str, now: i64, days: u32, key_type: KeyType) -> Result<Issued, String> {
    let key = key_type.generate()?;
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.serial_number = Some(serial());
    validity(&mut p, now, days)?;
    let cert = p
        .self_signed(&key)
        .map_err(|e| format!("cannot sign the CA certificate: {e}"))?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// Loads a private key for signing. Under ring only PKCS#8 can sign.
pub fn signing_key(key_pem: &str, what: &str) -> Result<KeyPair, String> {
    KeyPair::from_pem(key_pem).map_err(|_| {
        format!(
            "the {what} private key cannot be used to sign: it must be an unencrypted PKCS#8 key \
             (`-----BEGIN PRIVATE KEY-----`, ECDSA P-256/P-384, Ed25519 or RSA); convert one with \
             `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8`"
        )
    })
}

/// A server certificate for `dns_names` (the first is the common name),
/// signed by the CA (`ca_cert_pem`, `ca_key_pem`), valid `days` from `now`.
pub fn server(
    ca_cert_pem: &str,
    ca_key_pem: &str,
    dns_names: &[String],
    now: i64,
    days: u32,
) -> Result<Issued, String> {
    let until = now + i64::from(days) * 86_400;
    server_until(
        ca_cert_pem,
        ca_key_pem,
        dns_names,
        now,
        until,
        KeyType::default(),
    )
}

/// The not-after of a certificate issued at `now` for `days` to replace one
/// that ends at `old`: a second after `old` when `old` ends within the
/// minute before (a rotation repeated at once must still end later than
/// the one it replaces); otherwise `now + days`.
pub fn not_after(now: i64, days: u32, old: Option<i64>) -> i64 {
    let until = now + i64::from(days) * 86_400;
    match old {
        Some(o) if o >= until && o < until + 60 => o + 1,
        _ => until,
    }
}

/// [`server`], valid from `now` until `until` (unix seconds).
pub fn server_until(
    ca_cert_pem: &str,
    ca_key_pem: &str,
    dns_names: &[String],
    now: i64,
    until: i64,
    key_type: KeyType,
) -> Result<Issued, String> {
    let ca_key = signing_key(ca_key_pem, "CA")?;
    let issuer = Issuer::from_ca_cert_pem(ca_cert_pem, ca_key)
        .map_err(|e| format!("the CA certificate cannot be read: {e}"))?;
    let key = key_type.generate()?;
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(
        DnType::CommonName,
        dns_names.first().cloned().unwrap_or_default(),
    );
    p.distinguished_name = dn;
    p.subject_alt_names = dns_names
        .iter()
        .map(|n| {
            n.clone()
                .try_into()
                .map(SanType::DnsName)
                .map_err(|e| format!("`{n}` is not a valid DNS name for a certificate: {e}"))
        })
        .collect::<Result<_, _>>()?;
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    p.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    p.use_authority_key_identifier_extension = true;
    p.serial_number = Some(serial());
    p.not_before = time(now - BACKDATE_SECONDS)?;
    p.not_after = time(until)?;
    let cert = p
        .signed_by(&key, &issuer)
        .map_err(|e| format!("cannot sign the server certificate: {e}"))?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_rotation_ends_a_second_later() {
        let now = 1_000_000;
        let until = now + 90 * 86_400;
        assert_eq!(not_after(now, 90, None), until);
        assert_eq!(not_after(now, 90, Some(until - 5)), until);
        assert_eq!(not_after(now, 90, Some(until)), until + 1);
        assert_eq!(not_after(now, 90, Some(until + 59)), until + 60);
        // A certificate that ends much later is not outdone: validation refuses.
        assert_eq!(not_after(now, 90, Some(until + 86_400)), until);
    }
}
