//! `mcpctl certs init-ca [--secret NAME] [--import-cert F --import-key F] [--force]`:
//! create (or import) the fleet CA into its Secret; an existing CA is only
//! replaced with `--force`.

use http::Method;
use serde::Serialize;

use crate::certs::fleet::{self, secret_path};
use crate::certs::inspect::{self, CertInfo};
use crate::certs::validate::Pair;
use crate::certs::{issue, secret, validate};
use crate::cli::{InitCaArgs, OutputFormat};
use crate::cluster::Req;
use crate::cluster::session::Session;
use crate::error::{Error, Result, exit};
use crate::output::Printer;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    secret: String,
    namespace: String,
    /// created, imported, replaced
    action: String,
    ca: CertInfo,
}

fn read(path: &std::path::Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("cannot read the {what} {}: {e}", path.display())))
}

/// The imported CA, checked: a CA certificate, its key, able to sign.
fn imported(cert: &std::path::Path, key: &std::path::Path) -> Result<issue::Issued> {
    let cert_pem = read(cert, "CA certificate")?;
    let key_pem = read(key, "CA key")?;
    let bad = |why: String| {
        Error::Usage(format!(
            "cannot import the CA from {}: {why}",
            cert.display()
        ))
    };
    let pair = Pair::read(cert_pem.as_bytes(), key_pem.as_bytes()).map_err(bad)?;
    if !pair.leaf.is_ca {
        return Err(bad(format!(
            "{} is not a CA certificate (no basicConstraints CA:TRUE)",
            pair.leaf.subject
        )));
    }
    if !pair.key_matches() {
        return Err(bad(format!(
            "{} is not the private key of {}",
            key.display(),
            pair.leaf.subject
        )));
    }
    issue::signing_key(&key_pem, "CA").map_err(bad)?;
    Ok(issue::Issued { cert_pem, key_pem })
}

pub async fn run(s: &Session, args: &InitCaArgs, printer: &Printer) -> Result<u8> {
    let ns = s.ns();
    let name = super::ca_secret_name(s, args.secret.as_deref())?;
    let existing = fleet::get_secret(&s.cluster, ns, &name).await?;
    if let Some(old) = &existing
        && !args.force
    {
        let what = secret::chain(old)
            .map(|(_, c)| c)
            .map(|c| {
                format!(
                    "{} (serial {}, valid until {})",
                    c.subject,
                    c.serial,
                    validate::date(c.not_after)
                )
            })
            .unwrap_or_else(|| "something that is not a readable CA".into());
        return Err(Error::Failed(format!(
            "Secret {ns}/{name} already exists and holds {what}; init-ca does not replace a CA: \
             --force does (every server certificate it issued must then be reissued with \
             `mcpctl certs rotate --all`)"
        )));
    }
    let now = s.cluster.now().as_second();
    let (ca, action) = match (&args.import_cert, &args.import_key) {
        (Some(c), Some(k)) => (imported(c, k)?, "imported"),
        _ => {
            let days = u32::try_from(args.validity.as_secs() / 86_400)
                .unwrap_or(u32::MAX)
                .max(1);
            let cn = format!("{} fleet CA", s.fleet.name);
            (
                issue::new_ca(&cn, now, days, args.key_type.into()).map_err(Error::Failed)?,
                "created",
            )
        }
    };
    let body = match &existing {
        Some(old) => secret::replaced(
            old,
            ca.cert_pem.as_bytes(),
            ca.key_pem.as_bytes(),
            Some(ca.cert_pem.as_bytes()),
        ),
        None => secret::tls_secret(ns, &name, &ca.cert_pem, &ca.key_pem, &ca.cert_pem),
    };
    let path = secret_path(ns, &name);
    let resp = match &existing {
        Some(_) => {
            s.cluster
                .send(&Req::new(Method::PUT, &path).json_body(&body))
                .await?
        }
        None => {
            let req =
                Req::new(Method::POST, format!("/api/v1/namespaces/{ns}/secrets")).json_body(&body);
            s.cluster.create(&req, &path).await?
        }
    };
    if !resp.ok() {
        let hint = match resp.status {
            409 => "; someone else wrote it meanwhile: run init-ca again",
            404 => "; does the namespace exist? `mcpctl apply` creates it",
            _ => "",
        };
        return Err(Error::Failed(format!(
            "could not write the CA Secret {ns}/{name}: {} {}{hint}",
            resp.status,
            resp.message()
        )));
    }
    let info = crate::certs::pem::certs(ca.cert_pem.as_bytes())
        .and_then(|c| inspect::inspect(c[0].as_ref()))
        .map_err(Error::Failed)?;
    let action = if existing.is_some() && action == "created" {
        "replaced"
    } else {
        action
    };
    let out = Created {
        secret: name.clone(),
        namespace: ns.to_string(),
        action: action.into(),
        ca: info,
    };
    match printer.format {
        OutputFormat::Table => printer.data(&format!(
            "{action} the fleet CA in Secret {ns}/{name}: {} (serial {}, {} , valid until {}, sha256 {})",
            out.ca.subject,
            out.ca.serial,
            out.ca.key_type,
            validate::date(out.ca.not_after),
            out.ca.fingerprint
        )),
        _ => printer.data(&printer.document(&out)?),
    }
    Ok(exit::OK)
}
