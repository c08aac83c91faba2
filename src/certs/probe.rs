//! What a server serves: a real TLS handshake that trusts only the fleet CA
//! bundle and checks the name in-cluster clients use, returning the leaf
//! certificate it presented.
//!
//! The API server's service proxy cannot be used for this: it terminates
//! TLS itself, so the served certificate never reaches us through it.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName};

use super::inspect::{self, CertInfo};

/// `host:port` of an `https://` URL (the port defaults to 443).
pub fn address(url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| format!("--verify-url {url} must start with https://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err(format!("--verify-url {url} has no host"));
    }
    let has_port = match authority.rfind(']') {
        Some(end) => authority[end..].contains(':'),
        None => authority.contains(':'),
    };
    Ok(if has_port {
        authority.to_string()
    } else {
        format!("{authority}:443")
    })
}

/// Connects to `address`, handshakes trusting only `trust` and checking
/// the certificate is valid for `name`, and returns the served leaf.
pub async fn served(
    address: &str,
    name: &str,
    trust: &[CertificateDer<'static>],
    timeout: Duration,
) -> Result<CertInfo, String> {
    let mut roots = rustls::RootCertStore::empty();
    for c in trust {
        roots
            .add(c.clone())
            .map_err(|e| format!("the fleet CA cannot be trusted: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let server_name = ServerName::try_from(name.to_string())
        .map_err(|e| format!("`{name}` is not a TLS server name: {e}"))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let work = async {
        let tcp = tokio::net::TcpStream::connect(address)
            .await
            .map_err(|e| format!("cannot connect to {address}: {e}"))?;
        let tls = connector
            .connect(server_name, tcp)
            .await
            .map_err(|e| format!("TLS handshake with {address} as {name} failed: {e}"))?;
        let (_, conn) = tls.get_ref();
        let leaf = conn
            .peer_certificates()
            .and_then(|c| c.first())
            .ok_or_else(|| format!("{address} presented no certificate"))?;
        inspect::inspect(leaf.as_ref())
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| format!("no TLS handshake with {address} within {timeout:?}"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            address("https://127.0.0.1:8443/mcp").unwrap(),
            "127.0.0.1:8443"
        );
        assert_eq!(address("https://gh.mcp.svc").unwrap(), "gh.mcp.svc:443");
        assert_eq!(address("https://[::1]:9/x").unwrap(), "[::1]:9");
        assert_eq!(address("https://[::1]/x").unwrap(), "[::1]:443");
        assert!(address("http://x").is_err());
    }
}
