//! Certificates of the fleet's servers: read what a `kubernetes.io/tls`
//! Secret holds, issue from the fleet CA, validate before anything is
//! written, and check what a server serves.
//!
//! - [`pem`]: PEM blocks in, DER out (certificates and private keys).
//! - [`inspect`]: what a certificate says (subject, SANs, serial, validity, key).
//! - [`issue`]: a new CA or server certificate with rcgen (ECDSA P-256).
//! - [`validate`]: the pure checks a new certificate must pass.
//! - [`names`]: the DNS names a server's certificate must cover.
//! - [`secret`]: reading and building the Secrets (server, CA, backups).
//! - [`report`]: one server's certificate status, and the verdict over many.
//! - [`probe`]: a real TLS handshake that trusts only the fleet CA.
//!
//! Key material is never part of anything these modules return for display:
//! [`inspect::CertInfo`] holds public data only, and errors never quote a key.

pub mod fleet;
pub mod inspect;
pub mod install;
pub mod issue;
pub mod names;
pub mod pem;
pub mod probe;
pub mod report;
pub mod secret;
pub mod validate;

#[cfg(test)]
mod tests;
