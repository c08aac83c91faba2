//! `mcpctl rbac`: the ServiceAccount, Role and RoleBinding a CI identity
//! needs to run mcpctl on the fleet's namespace, and nothing more.

use crate::cli::{GlobalArgs, OutputFormat, RbacArgs, RbacFor};
use crate::error::{Error, Result, exit};
use crate::output::Printer;
use crate::rbac::{self, Purpose};

pub fn run(global: &GlobalArgs, args: &RbacArgs, printer: &Printer) -> Result<u8> {
    let fleet = super::inputs::fleet(global, printer)?;
    let purpose = match args.purpose {
        RbacFor::Deploy => Purpose::Deploy,
        RbacFor::ReadOnly => Purpose::ReadOnly,
        RbacFor::Certs => Purpose::Certs,
    };
    let objects = rbac::objects(purpose, &fleet.namespace, &args.name, args.cluster_wide);
    match printer.format {
        OutputFormat::Json => printer.data(&printer.structured(&serde_json::json!({
            "apiVersion": "v1", "kind": "List", "items": objects
        }))?),
        _ => {
            let mut out = String::new();
            for o in &objects {
                out.push_str("---\n");
                out.push_str(&serde_saphyr::to_string(o).map_err(|e| {
                    Error::Failed(format!("cannot encode the RBAC objects as YAML: {e}"))
                })?);
            }
            printer.data(&out);
        }
    }
    Ok(exit::OK)
}
