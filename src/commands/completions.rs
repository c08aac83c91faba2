use crate::cli::CompletionsArgs;
use crate::error::{Result, exit};

pub fn run(args: &CompletionsArgs) -> Result<u8> {
    let mut cmd = crate::cli::command();
    clap_complete::generate(args.shell, &mut cmd, "mcpctl", &mut std::io::stdout());
    Ok(exit::OK)
}
