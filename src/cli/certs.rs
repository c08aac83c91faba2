//! `mcpctl certs …`: the certificate subcommands' flags.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

#[derive(Debug, Clone, Args)]
pub struct CertsArgs {
    #[command(subcommand)]
    pub command: CertsCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum CertsCommand {
    /// Each server's certificate: validity, key, chain, names, who manages it (exit 1 when any
    /// is bad, 8 when any only expires within --warn-days)
    Status(CertsStatusArgs),
    /// Create or import the fleet CA into its Secret (the fleet file's tls.caSecret)
    InitCa(InitCaArgs),
    /// Issue a new certificate from the fleet CA (or take given files), validate it, replace the
    /// Secret in one write, roll the Deployments and verify what is served; restore on failure
    Rotate(RotateArgs),
    /// Restore the newest backup of a server's Secret, roll the Deployments and verify
    Rollback(CertsRollbackArgs),
    /// Roll the fleet CA over without an outage: publish a bundle of the old and a new CA,
    /// re-issue every server certificate from the new one; --finish drops the old CA
    RotateCa(RotateCaArgs),
}

#[derive(Debug, Clone, Args)]
pub struct RotateCaArgs {
    /// Key of the new CA and of the re-issued server certificates
    #[arg(long, value_enum, default_value_t = KeyTypeArg::EcdsaP256)]
    pub key_type: KeyTypeArg,
    /// Drop the old CA from the trust bundle (refused while a server still carries a
    /// certificate of the old CA)
    #[arg(long)]
    pub finish: bool,
    /// CA Secret name (default: the fleet file's tls.caSecret)
    #[arg(long, value_name = "NAME")]
    pub secret: Option<String>,
    /// Validity of the new CA
    #[arg(long, value_name = "DURATION", default_value = "3650d", value_parser = parse_days)]
    pub ca_validity: Duration,
    /// Validity of the re-issued server certificates
    #[arg(long, value_name = "DURATION", default_value = "90d", value_parser = parse_days)]
    pub validity: Duration,
    /// Servers re-issued at the same time
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_parallel: u32,
    #[command(flatten)]
    pub run: CertsRunArgs,
}

#[derive(Debug, Clone, Args)]
pub struct CertsStatusArgs {
    /// Servers to show (default: every server with `tls`)
    #[arg(value_name = "SERVER")]
    pub servers: Vec<String>,
    /// Exit 8 when a certificate expires within this many days (default: the fleet file's tls.warnDays)
    #[arg(long, value_name = "N")]
    pub warn_days: Option<u32>,
}

#[derive(Debug, Clone, Args)]
pub struct InitCaArgs {
    /// CA Secret name (default: the fleet file's tls.caSecret)
    #[arg(long, value_name = "NAME")]
    pub secret: Option<String>,
    /// Import this CA certificate (PEM) instead of creating one
    #[arg(long, value_name = "FILE", requires = "import_key")]
    pub import_cert: Option<PathBuf>,
    /// The imported CA's private key (unencrypted PKCS#8 PEM)
    #[arg(long, value_name = "FILE", requires = "import_cert")]
    pub import_key: Option<PathBuf>,
    /// Replace an existing CA (every server certificate it issued then needs `certs rotate --all`)
    #[arg(long)]
    pub force: bool,
    /// Key of a created CA
    #[arg(long, value_enum, default_value_t = KeyTypeArg::EcdsaP256, conflicts_with = "import_cert")]
    pub key_type: KeyTypeArg,
    /// Validity of a created CA
    #[arg(long, value_name = "DURATION", default_value = "3650d", value_parser = parse_days)]
    pub validity: Duration,
}

/// The key of a certificate mcpctl issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyTypeArg {
    #[value(name = "ecdsa-p256")]
    EcdsaP256,
    #[value(name = "rsa-2048")]
    Rsa2048,
    #[value(name = "rsa-3072")]
    Rsa3072,
    #[value(name = "rsa-4096")]
    Rsa4096,
}

impl From<KeyTypeArg> for crate::certs::issue::KeyType {
    fn from(k: KeyTypeArg) -> Self {
        use crate::certs::issue::KeyType;
        match k {
            KeyTypeArg::EcdsaP256 => KeyType::EcdsaP256,
            KeyTypeArg::Rsa2048 => KeyType::Rsa(2048),
            KeyTypeArg::Rsa3072 => KeyType::Rsa(3072),
            KeyTypeArg::Rsa4096 => KeyType::Rsa(4096),
        }
    }
}

#[derive(Debug, Clone, Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["servers", "all"]))]
pub struct RotateArgs {
    /// Servers to rotate
    #[arg(value_name = "SERVER")]
    pub servers: Vec<String>,
    /// Key of the issued certificates
    #[arg(long, value_enum, default_value_t = KeyTypeArg::EcdsaP256, conflicts_with = "cert_file")]
    pub key_type: KeyTypeArg,
    /// Every server with `tls`, one after another (--max-parallel at a time)
    #[arg(long, conflicts_with = "servers")]
    pub all: bool,
    /// Only rotate certificates that expire within this long (`30d`), or are bad
    #[arg(long, value_name = "DURATION", value_parser = parse_days)]
    pub if_expiring_within: Option<Duration>,
    /// Install this certificate (PEM, leaf first) instead of issuing one (one server only)
    #[arg(long, value_name = "FILE", requires = "key_file")]
    pub cert_file: Option<PathBuf>,
    /// The private key of --cert-file (PEM)
    #[arg(long, value_name = "FILE", requires = "cert_file")]
    pub key_file: Option<PathBuf>,
    /// Check the served certificate here (`https://HOST:PORT`) with a TLS handshake trusting
    /// only the fleet CA, as `<server>.<namespace>.svc`
    #[arg(long, value_name = "URL")]
    pub verify_url: Option<String>,
    /// How long the served certificate may take to become the new one (pods still terminating
    /// may serve the old one for a while)
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_days)]
    pub verify_timeout: Duration,
    /// Servers rotated at the same time with --all
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_parallel: u32,
    /// Validity of an issued certificate
    #[arg(long, value_name = "DURATION", default_value = "90d", value_parser = parse_days)]
    pub validity: Duration,
    /// Backups kept per Secret
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub keep_backups: u32,
    #[command(flatten)]
    pub run: CertsRunArgs,
}

/// What every certificate change shares.
#[derive(Debug, Clone, Args)]
pub struct CertsRunArgs {
    /// How long the Deployments may take to roll out (then the backup is restored, exit 3)
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_days)]
    pub timeout: Duration,
    /// Break a lock held by another operation (dangerous: both may then change the server)
    #[arg(long)]
    pub force_unlock: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CertsRollbackArgs {
    /// Server whose newest backup to restore
    #[arg(value_name = "SERVER")]
    pub server: String,
    /// Check the served certificate here, as for `certs rotate`
    #[arg(long, value_name = "URL")]
    pub verify_url: Option<String>,
    /// How long the served certificate may take to become the restored one
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_days)]
    pub verify_timeout: Duration,
    #[command(flatten)]
    pub run: CertsRunArgs,
}

/// `30d`, or a duration (`720h`, `5m`).
pub fn parse_days(s: &str) -> Result<Duration, String> {
    if let Some(n) = s.strip_suffix('d')
        && !n.is_empty()
        && n.chars().all(|c| c.is_ascii_digit())
    {
        let days: u64 = n.parse().map_err(|_| format!("`{s}`: number too large"))?;
        return Ok(Duration::from_secs(days * 86_400));
    }
    crate::fleet::duration::parse(s).map_err(|e| format!("{e} (or days: `30d`)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_durations() {
        assert_eq!(parse_days("30d").unwrap(), Duration::from_secs(30 * 86_400));
        assert_eq!(parse_days("2h").unwrap(), Duration::from_secs(7200));
        assert!(parse_days("d").is_err());
        assert!(parse_days("3 d").is_err());
    }
}
