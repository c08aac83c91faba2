//! Command-line definition: global flags and subcommands, defined once; the
//! completions under `completions/` are generated from this.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod certs;
pub use certs::*;

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

/// The whole command definition: the derived one, with the examples that end
/// each subcommand's help. Parsing, the manual page and completions use it.
pub fn command() -> clap::Command {
    crate::help_examples::add(<Cli as clap::CommandFactory>::command())
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
    /// How operations (deploy, rollback, reconcile) report their events: lines on stderr
    /// for people, or one JSON object per line on stdout for pipelines
    #[arg(long, global = true, value_enum, default_value_t = EventsFormat::Human)]
    pub events: EventsFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventsFormat {
    /// Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)
    Human,
    /// One JSON object per line on stdout, timestamped, in order
    Ndjson,
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
    /// Show what `apply` would change (server-side dry run); exit 1 when it differs
    Diff(DiffArgs),
    /// Server-side apply the rendered objects to the cluster
    Apply(ApplyArgs),
    /// Remove servers' objects from the cluster, like `helm uninstall` (history kept unless --purge)
    Delete(DeleteArgs),
    /// Fleet status: version, traffic, replicas, last rollout, certificates
    Status(StatusArgs),
    /// Recorded revisions of a server
    History(HistoryArgs),
    /// Deploy a new image with the server's strategy (canary, blue-green, rolling), gated by the MCP smoke test and, for a canary, by Prometheus
    Deploy(Box<DeployArgs>),
    /// End the current canary step now (`--full`: skip every remaining step and promote)
    Promote(PromoteArgs),
    /// Stop a canary deploy: all traffic back to stable, the deploy exits 6
    Abort(AbortArgs),
    /// Go back to the previous version (one traffic switch while it still runs), or undo an interrupted deploy
    Rollback(RollbackArgs),
    /// Perform due tasks (delayed scale-downs) of the fleet's servers
    Reconcile(ReconcileArgs),
    /// Print the least-privilege ServiceAccount, Role and RoleBinding a CI identity needs
    Rbac(RbacArgs),
    /// Print the version, git commit and build date (`-o json` too)
    Version,
    /// Print the manual page (roff; `mcpctl man | man -l -`)
    Man,
    /// Protocol-level MCP smoke test (exit 3 when it fails or tools break)
    Smoke(SmokeArgs),
    /// Print the JSON Schema of the fleet file, for editors (`mcpctl schema > mcpctl.schema.json`)
    Schema,
    /// Certificates: status, the fleet CA, verified rotation with automatic restore, rollback
    Certs(CertsArgs),
}

/// Options shared by the commands that run a rollout.
#[derive(Debug, Clone, Args)]
pub struct RolloutArgs {
    /// Print the plan (steps, undo of each, deferred work) and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// How long a wait for Deployments to roll out may take (exit 4 past it, traffic restored)
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
    /// Skip the MCP smoke test (and the tool-schema gate with it)
    #[arg(long)]
    pub no_smoke: bool,
    /// Smoke-test this URL instead of the candidate's Service (through the API server's proxy)
    #[arg(long, value_name = "URL")]
    pub smoke_url: Option<String>,
    /// Header for the smoke test's requests, as `Name: value` (repeatable)
    #[arg(long = "header", value_name = "K:V", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
    /// How long each smoke-test request may take
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub smoke_timeout: std::time::Duration,
    /// Directory of templates overriding the embedded ones by file name
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Break a lock held by another operation (dangerous: both may then change the server)
    #[arg(long)]
    pub force_unlock: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DeployArgs {
    /// Server to deploy
    #[arg(value_name = "SERVER")]
    pub server: String,
    /// Image to deploy (default: the image the fleet file names)
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// Strategy; must be the server's strategy in the fleet file
    #[arg(long, value_enum)]
    pub strategy: Option<StrategyArg>,
    /// Deploy even when the candidate removes or narrows tools
    #[arg(long)]
    pub allow_breaking_tools: bool,
    /// How long the previous colour stays up after the switch (default: the fleet file's blueGreen.scaleDownDelay)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub scale_down_delay: Option<std::time::Duration>,
    /// Keep a failed candidate running (scaled up) for debugging
    #[arg(long)]
    pub keep_failed: bool,
    /// Continue the interrupted deploy recorded in the journal from its recorded step
    #[arg(long, conflicts_with_all = ["image", "dry_run"])]
    pub resume: bool,
    /// Go on although the journal records another operation interrupted (it is forgotten)
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub rollout: RolloutArgs,
    #[command(flatten)]
    pub canary: CanaryArgs,
}

/// Canary options; each overrides the fleet file's `canary` block.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Canary")]
pub struct CanaryArgs {
    /// Traffic weights in percent, strictly increasing, ending at 100 (e.g. 10,25,50,100)
    #[arg(long, value_name = "W,W,..", value_delimiter = ',')]
    pub steps: Option<Vec<u32>>,
    /// How long each step holds while the analysis samples
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub step_duration: Option<std::time::Duration>,
    /// How often the analysis samples Prometheus
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub analysis_interval: Option<std::time::Duration>,
    /// Highest acceptable error rate of the canary, in [0, 1]
    #[arg(long, value_name = "RATE")]
    pub max_error_rate: Option<f64>,
    /// Fewer canary requests than this in the window is "no data"
    #[arg(long, value_name = "N")]
    pub min_requests: Option<u32>,
    /// What a sample without data counts as
    #[arg(long, value_enum, value_name = "POLICY")]
    pub no_data: Option<NoDataArg>,
    /// This many failed samples abort the rollout
    #[arg(long, value_name = "N")]
    pub failure_limit: Option<u32>,
    /// Prometheus base URL (default: the fleet file's prometheus.url)
    #[arg(long, value_name = "URL")]
    pub prometheus_url: Option<String>,
    /// Bearer token for Prometheus (prefer --prometheus-token-env or --prometheus-token-secret)
    #[arg(long, value_name = "TOKEN", conflicts_with_all = ["prometheus_token_env", "prometheus_token_secret"])]
    pub prometheus_token: Option<String>,
    /// Environment variable holding the Prometheus bearer token
    #[arg(long, value_name = "VAR", conflicts_with = "prometheus_token_secret")]
    pub prometheus_token_env: Option<String>,
    /// Secret key holding the Prometheus bearer token, as NAME/KEY in the fleet's namespace
    #[arg(long, value_name = "NAME/KEY")]
    pub prometheus_token_secret: Option<String>,
    /// User for Prometheus basic auth (the password from --prometheus-password-env)
    #[arg(long, value_name = "USER", requires = "prometheus_password_env", conflicts_with_all = ["prometheus_token", "prometheus_token_env", "prometheus_token_secret"])]
    pub prometheus_user: Option<String>,
    /// Environment variable holding the Prometheus basic-auth password
    #[arg(long, value_name = "VAR", requires = "prometheus_user")]
    pub prometheus_password_env: Option<String>,
    /// PEM file of the CA(s) that sign Prometheus's certificate
    #[arg(long, value_name = "FILE")]
    pub prometheus_ca: Option<PathBuf>,
    /// How long one Prometheus query may take (a slower answer is a failed sample)
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub prometheus_timeout: std::time::Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NoDataArg {
    Fail,
    Pass,
    Ignore,
}

#[derive(Debug, Clone, Args)]
pub struct PromoteArgs {
    /// Server whose canary to promote
    #[arg(value_name = "SERVER")]
    pub server: String,
    /// Skip every remaining step: promote the canary now
    #[arg(long)]
    pub full: bool,
    /// How long to wait for the running deploy to act on the request
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
}

#[derive(Debug, Clone, Args)]
pub struct AbortArgs {
    /// Server whose canary deploy to abort
    #[arg(value_name = "SERVER")]
    pub server: String,
    /// How long to wait for stable to be restored (by the running deploy, or by abort itself once no process runs it)
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StrategyArg {
    Rolling,
    BlueGreen,
    Canary,
}

#[derive(Debug, Clone, Args)]
pub struct RollbackArgs {
    /// Server to roll back
    #[arg(value_name = "SERVER")]
    pub server: String,
    /// Go back to this recorded revision (`mcpctl history SERVER`) instead of the previous version
    #[arg(long, value_name = "N")]
    pub to_revision: Option<u32>,
    #[command(flatten)]
    pub rollout: RolloutArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RbacArgs {
    /// What the identity runs: deploy (apply, deploy, rollback, reconcile and the rest), read-only, or certs
    #[arg(long = "for", value_enum, default_value_t = RbacFor::Deploy)]
    pub purpose: RbacFor,
    /// A ClusterRole and ClusterRoleBinding instead of a Role and RoleBinding in the fleet's namespace
    #[arg(long)]
    pub cluster_wide: bool,
    /// Name of the ServiceAccount, Role and binding
    #[arg(long, default_value = "mcpctl")]
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RbacFor {
    Deploy,
    ReadOnly,
    /// `certs status`, `init-ca`, `rotate` and `rollback`
    Certs,
}

#[derive(Debug, Clone, Args)]
pub struct ReconcileArgs {
    /// Servers whose due tasks to perform (default: all)
    #[arg(value_name = "SERVER")]
    pub servers: Vec<String>,
    /// Break a lock held by another operation (dangerous: both may then change the server)
    #[arg(long)]
    pub force_unlock: bool,
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
    /// Write one file per object into DIR instead of stdout (`render` only)
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DryRun {
    /// Send every change to the API server as a dry run (`dryRun=All`)
    Server,
}

#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    /// Servers to apply (default: all, and the fleet's own objects: its Grafana dashboard)
    #[arg(value_name = "SERVER")]
    pub servers: Vec<String>,
    /// Directory of templates overriding the embedded ones by file name
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Only validate with the API server; change nothing
    #[arg(long, value_enum, value_name = "MODE")]
    pub dry_run: Option<DryRun>,
    /// Wait until the Deployments have rolled out (like `kubectl rollout status`)
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits (exit 4 when it runs out)
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
    /// Take fields owned by other field managers instead of failing on the conflict
    #[arg(long)]
    pub force_conflicts: bool,
    /// Break a lock held by another operation (dangerous: both may then change the server)
    #[arg(long)]
    pub force_unlock: bool,
    /// Go on although the journal records another operation interrupted on a server
    /// (it is forgotten; `mcpctl deploy --resume` or `mcpctl rollback` would finish it)
    #[arg(long)]
    pub force: bool,
    /// Delete the objects of the fleet's ApplySet that the fleet file no longer renders
    /// (a removed server, a dropped VirtualService or HorizontalPodAutoscaler, the
    /// dashboard after `dashboard.enabled: false`)
    #[arg(long)]
    pub prune: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DeleteArgs {
    /// Servers to remove (a server no longer in the fleet file too)
    #[arg(
        value_name = "SERVER",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub servers: Vec<String>,
    /// Every server of the fleet's ApplySet, and the fleet's dashboard
    #[arg(long)]
    pub all: bool,
    /// Also delete the servers' recorded history (revisions and state)
    #[arg(long)]
    pub purge: bool,
    /// Do not ask for confirmation (required when stdin is not a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Break a lock held by another operation (dangerous: both may then change the server)
    #[arg(long)]
    pub force_unlock: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    /// Servers to diff (default: all, and the fleet's dashboard)
    #[arg(value_name = "SERVER")]
    pub servers: Vec<String>,
    /// Directory of templates overriding the embedded ones by file name
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Diff as if fields owned by other field managers were taken
    #[arg(long)]
    pub force_conflicts: bool,
    /// Also show, as deletions, what `apply --prune` would delete
    #[arg(long)]
    pub prune: bool,
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// Servers to show (default: all)
    #[arg(value_name = "SERVER")]
    pub servers: Vec<String>,
    /// Keep watching and print again on every change
    #[arg(long)]
    pub watch: bool,
}

#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// Server whose revisions to list
    #[arg(value_name = "SERVER")]
    pub server: String,
}

#[derive(Debug, Clone, Args)]
#[command(group = clap::ArgGroup::new("target").required(true).args(["server", "url", "all"]))]
pub struct SmokeArgs {
    /// Server of the fleet, reached through the API server's service proxy
    #[arg(value_name = "SERVER")]
    pub server: Option<String>,
    /// MCP endpoint to test directly (http or https)
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Every server of the fleet, 8 at a time
    #[arg(long, conflicts_with = "compare_to")]
    pub all: bool,
    /// Extra header on every request, `NAME: VALUE` (repeatable); values of
    /// credential-like headers are never printed
    #[arg(long = "header", short = 'H', value_name = "K:V", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
    /// Time each request may take, answer included
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_timeout)]
    pub timeout: std::time::Duration,
    /// Also test this endpoint (the version clients use now) and classify how
    /// the tested server's tools differ from its tools; exit 3 on breaking changes
    #[arg(long, value_name = "URL")]
    pub compare_to: Option<String>,
}

/// `NAME: VALUE` (or `NAME:VALUE`) as a header.
pub fn parse_header(s: &str) -> Result<(String, String), String> {
    let (name, value) = s
        .split_once(':')
        .ok_or_else(|| "expected NAME:VALUE (a header name, a colon, the value)".to_string())?;
    let name = name.trim();
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token) {
        return Err(format!("{name:?} is not a valid header name"));
    }
    Ok((name.to_string(), value.trim().to_string()))
}

/// A duration that is more than zero.
fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err("a timeout must be more than 0s".into());
    }
    Ok(d)
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    crate::fleet::duration::parse(s)
}
