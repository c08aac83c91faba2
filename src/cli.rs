//! Command-line definition: global flags and subcommands, defined once; the
//! completions under `completions/` are generated from this.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "mcpctl",
    version,
    about = "Deploy and manage fleets of MCP servers on Kubernetes",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use (default: the current context)
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Namespace (overrides the fleet file's namespace)
    #[arg(short = 'n', long, global = true, value_name = "NS")]
    pub namespace: Option<String>,
    /// Fleet file
    #[arg(
        short = 'f',
        long,
        global = true,
        env = "MCPCTL_FLEET",
        default_value = "mcpctl.yaml",
        value_name = "FILE"
    )]
    pub fleet: PathBuf,
    /// Output format for data on stdout
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// More logging on stderr (repeat for more)
    #[arg(short = 'v', long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only errors on stderr
    #[arg(short = 'q', long, global = true)]
    pub quiet: bool,
    /// Disable colours (also honours NO_COLOR)
    #[arg(long, global = true)]
    pub no_color: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    Yaml,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented example fleet file
    Init(InitArgs),
    /// Parse and check the fleet file, reporting every problem
    Validate,
    /// Check the rendered objects against a production checklist
    Lint(RenderArgs),
    /// Render Kubernetes manifests as multi-document YAML
    Render(RenderArgs),
    /// Print shell completions
    Completions(CompletionsArgs),
}

#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// Overwrite an existing file
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RenderArgs {
    /// Servers to render (default: all)
    #[arg(value_name = "SERVER")]
    pub servers: Vec<String>,
    /// Directory of templates overriding the embedded ones by file name
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Write one file per object into DIR instead of stdout
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Kubernetes version to render for (like `helm template --kube-version`)
    #[arg(long, value_name = "VERSION", default_value = "1.33")]
    pub kube_version: String,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
