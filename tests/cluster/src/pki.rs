//! Self-signed certificates and keys of a test control plane, made with the `openssl` command:
//! a CA, the API server's serving certificate (for 127.0.0.1 and the in-cluster names), client
//! certificates for an administrator (`system:masters`) and the controller manager, and the
//! key pair that signs service-account tokens. Valid for two days: a test run is shorter.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Pki {
    pub ca_crt: PathBuf,
    pub server_crt: PathBuf,
    pub server_key: PathBuf,
    pub admin_crt: PathBuf,
    pub admin_key: PathBuf,
    pub kcm_crt: PathBuf,
    pub kcm_key: PathBuf,
    pub sa_key: PathBuf,
    pub sa_pub: PathBuf,
}

const EC: [&str; 4] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];

fn openssl(dir: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| {
            format!("cannot run openssl ({e}): the end-to-end tests make their certificates with it; install it (apt-get install openssl)")
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "openssl {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A key and a certificate signed by the CA in `dir`, with the X.509 extensions `ext`.
fn leaf(dir: &Path, name: &str, subject: &str, ext: &str) -> Result<(PathBuf, PathBuf), String> {
    let (key, csr, crt, extfile) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.crt"),
        format!("{name}.ext"),
    );
    std::fs::write(dir.join(&extfile), ext).map_err(|e| format!("cannot write {extfile}: {e}"))?;
    let mut req = vec!["req", "-new", "-nodes"];
    req.extend(EC);
    req.extend(["-keyout", &key, "-out", &csr, "-subj", subject]);
    openssl(dir, &req)?;
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &extfile,
            "-out",
            &crt,
        ],
    )?;
    Ok((dir.join(crt), dir.join(key)))
}

pub fn create(dir: &Path) -> Result<Pki, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut ca = vec!["req", "-x509", "-nodes", "-days", "2"];
    ca.extend(EC);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-subj",
        "/CN=mcpctl-e2e-ca",
    ]);
    openssl(dir, &ca)?;
    let client = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n";
    let (server_crt, server_key) = leaf(
        dir,
        "apiserver",
        "/CN=kube-apiserver",
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,\
         DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,\
         DNS:kubernetes.default.svc.cluster.local\n",
    )?;
    let (admin_crt, admin_key) = leaf(dir, "admin", "/O=system:masters/CN=e2e-admin", client)?;
    let (kcm_crt, kcm_key) = leaf(
        dir,
        "controller-manager",
        "/CN=system:kube-controller-manager",
        client,
    )?;
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "sa.key",
        ],
    )?;
    openssl(dir, &["pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub"])?;
    Ok(Pki {
        ca_crt: dir.join("ca.crt"),
        server_crt,
        server_key,
        admin_crt,
        admin_key,
        kcm_crt,
        kcm_key,
        sa_key: dir.join("sa.key"),
        sa_pub: dir.join("sa.pub"),
    })
}

/// A kubeconfig for `server` with a client certificate (paths, not inline data).
pub fn kubeconfig(server: &str, ca: &Path, crt: &Path, key: &Path, user: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: e2e\n  cluster:\n    server: {server}\n    \
         certificate-authority: {}\nusers:\n- name: {user}\n  user:\n    client-certificate: {}\n    \
         client-key: {}\ncontexts:\n- name: e2e\n  context:\n    cluster: e2e\n    user: {user}\n    \
         namespace: default\ncurrent-context: e2e\n",
        ca.display(),
        crt.display(),
        key.display()
    )
}
