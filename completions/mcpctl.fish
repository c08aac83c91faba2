# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mcpctl_global_optspecs
    string join \n kubeconfig= context= n/namespace= f/fleet= o/output= v/verbose q/quiet no-color events= h/help V/version
end

function __fish_mcpctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mcpctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mcpctl_using_subcommand
    set -l cmd (__fish_mcpctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mcpctl -n "__fish_mcpctl_needs_command" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_needs_command" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_needs_command" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_needs_command" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_needs_command" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_needs_command" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_needs_command" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -f -a "init" -d 'Write a commented example fleet file'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -f -a "validate" -d 'Parse and check the fleet file, reporting every problem'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -f -a "lint" -d 'Check the rendered objects against a production checklist'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -f -a "render" -d 'Render Kubernetes manifests as multi-document YAML'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -f -a "completions" -d 'Print shell completions'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -f -a "diff" -d 'Show what `apply` would change (server-side dry run); exit 1 when it differs'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -f -a "apply" -d 'Server-side apply the rendered objects to the cluster'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -f -a "delete" -d 'Remove servers\' objects from the cluster, like `helm uninstall` (history kept unless --purge)'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -f -a "status" -d 'Fleet status: version, traffic, replicas, last rollout, certificates'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -f -a "history" -d 'Recorded revisions of a server'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -f -a "deploy" -d 'Deploy a new image with the server\'s strategy (canary, blue-green, rolling), gated by the MCP smoke test and, for a canary, by Prometheus'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -f -a "promote" -d 'End the current canary step now (`--full`: skip every remaining step and promote)'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -f -a "abort" -d 'Stop a canary deploy: all traffic back to stable, the deploy exits 6'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -f -a "rollback" -d 'Go back to the previous version (one traffic switch while it still runs), or undo an interrupted deploy'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -f -a "reconcile" -d 'Perform due tasks (delayed scale-downs) of the fleet\'s servers'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -f -a "rbac" -d 'Print the least-privilege ServiceAccount, Role and RoleBinding a CI identity needs'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -f -a "version" -d 'Print the version, git commit and build date (`-o json` too)'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -f -a "man" -d 'Print the manual page (roff; `mcpctl man | man -l -`)'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -f -a "smoke" -d 'Protocol-level MCP smoke test (exit 3 when it fails or tools break)'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -f -a "schema" -d 'Print the JSON Schema of the fleet file, for editors (`mcpctl schema > mcpctl.schema.json`)'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -f -a "certs" -d 'Certificates: status, the fleet CA, verified rotation with automatic restore, rollback'
complete -c mcpctl -n "__fish_mcpctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand init" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand init" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand init" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand init" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand init" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand init" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand init" -l force -d 'Overwrite an existing file'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand init" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand init" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand init" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand init" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand validate" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand validate" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand validate" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand validate" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand validate" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand validate" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand validate" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand validate" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand validate" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand validate" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand lint" -l templates -d 'Directory of templates overriding the embedded ones by file name' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand lint" -l output-dir -d 'Write one file per object into DIR instead of stdout (`render` only)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand lint" -l kube-version -d 'Kubernetes version to render for (like `helm template --kube-version`)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand lint" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand lint" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand lint" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand lint" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand lint" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand lint" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand lint" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand lint" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand lint" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand lint" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand lint" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand render" -l templates -d 'Directory of templates overriding the embedded ones by file name' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand render" -l output-dir -d 'Write one file per object into DIR instead of stdout (`render` only)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand render" -l kube-version -d 'Kubernetes version to render for (like `helm template --kube-version`)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand render" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand render" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand render" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand render" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand render" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand render" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand render" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand render" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand render" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand render" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand render" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand completions" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand completions" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand completions" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand completions" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand completions" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand completions" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand completions" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand completions" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand completions" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand diff" -l templates -d 'Directory of templates overriding the embedded ones by file name' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand diff" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand diff" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand diff" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand diff" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand diff" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand diff" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand diff" -l force-conflicts -d 'Diff as if fields owned by other field managers were taken'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand diff" -l prune -d 'Also show, as deletions, what `apply --prune` would delete'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand diff" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand diff" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand diff" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand diff" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand diff" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand apply" -l templates -d 'Directory of templates overriding the embedded ones by file name' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand apply" -l dry-run -d 'Only validate with the API server; change nothing' -r -f -a "server\t'Send every change to the API server as a dry run (`dryRun=All`)'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand apply" -l timeout -d 'How long --wait waits (exit 4 when it runs out)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand apply" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand apply" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand apply" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand apply" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand apply" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand apply" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand apply" -l wait -d 'Wait until the Deployments have rolled out (like `kubectl rollout status`)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand apply" -l force-conflicts -d 'Take fields owned by other field managers instead of failing on the conflict'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand apply" -l force-unlock -d 'Break a lock held by another operation (dangerous: both may then change the server)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand apply" -l force -d 'Go on although the journal records another operation interrupted on a server (it is forgotten; `mcpctl deploy --resume` or `mcpctl rollback` would finish it)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand apply" -l prune -d 'Delete the objects of the fleet\'s ApplySet that the fleet file no longer renders (a removed server, a dropped VirtualService or HorizontalPodAutoscaler, the dashboard after `dashboard.enabled: false`)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand apply" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand apply" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand apply" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand apply" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand delete" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand delete" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand delete" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand delete" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand delete" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand delete" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand delete" -l all -d 'Every server of the fleet\'s ApplySet, and the fleet\'s dashboard'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand delete" -l purge -d 'Also delete the servers\' recorded history (revisions and state)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand delete" -s y -l yes -d 'Do not ask for confirmation (required when stdin is not a terminal)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand delete" -l force-unlock -d 'Break a lock held by another operation (dangerous: both may then change the server)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand delete" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand delete" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand delete" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand delete" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand status" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand status" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand status" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand status" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand status" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand status" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand status" -l watch -d 'Keep watching and print again on every change'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand status" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand status" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand status" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand status" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand history" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand history" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand history" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand history" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand history" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand history" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand history" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand history" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand history" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand history" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand history" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l image -d 'Image to deploy (default: the image the fleet file names)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l strategy -d 'Strategy; must be the server\'s strategy in the fleet file' -r -f -a "rolling\t''
blue-green\t''
canary\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l scale-down-delay -d 'How long the previous colour stays up after the switch (default: the fleet file\'s blueGreen.scaleDownDelay)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l timeout -d 'How long a wait for Deployments to roll out may take (exit 4 past it, traffic restored)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l smoke-url -d 'Smoke-test this URL instead of the candidate\'s Service (through the API server\'s proxy)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l header -d 'Header for the smoke test\'s requests, as `Name: value` (repeatable)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l smoke-timeout -d 'How long each smoke-test request may take' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l templates -d 'Directory of templates overriding the embedded ones by file name' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l steps -d 'Traffic weights in percent, strictly increasing, ending at 100 (e.g. 10,25,50,100)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l step-duration -d 'How long each step holds while the analysis samples' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l analysis-interval -d 'How often the analysis samples Prometheus' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l max-error-rate -d 'Highest acceptable error rate of the canary, in [0, 1]' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l min-requests -d 'Fewer canary requests than this in the window is "no data"' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l no-data -d 'What a sample without data counts as' -r -f -a "fail\t''
pass\t''
ignore\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l failure-limit -d 'This many failed samples abort the rollout' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l prometheus-url -d 'Prometheus base URL (default: the fleet file\'s prometheus.url)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l prometheus-token -d 'Bearer token for Prometheus (prefer --prometheus-token-env or --prometheus-token-secret)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l prometheus-token-env -d 'Environment variable holding the Prometheus bearer token' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l prometheus-token-secret -d 'Secret key holding the Prometheus bearer token, as NAME/KEY in the fleet\'s namespace' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l prometheus-user -d 'User for Prometheus basic auth (the password from --prometheus-password-env)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l prometheus-password-env -d 'Environment variable holding the Prometheus basic-auth password' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l prometheus-ca -d 'PEM file of the CA(s) that sign Prometheus\'s certificate' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l prometheus-timeout -d 'How long one Prometheus query may take (a slower answer is a failed sample)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l allow-breaking-tools -d 'Deploy even when the candidate removes or narrows tools'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l keep-failed -d 'Keep a failed candidate running (scaled up) for debugging'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l resume -d 'Continue the interrupted deploy recorded in the journal from its recorded step'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l force -d 'Go on although the journal records another operation interrupted (it is forgotten)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l dry-run -d 'Print the plan (steps, undo of each, deferred work) and change nothing'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l no-smoke -d 'Skip the MCP smoke test (and the tool-schema gate with it)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l force-unlock -d 'Break a lock held by another operation (dangerous: both may then change the server)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand deploy" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand promote" -l timeout -d 'How long to wait for the running deploy to act on the request' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand promote" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand promote" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand promote" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand promote" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand promote" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand promote" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand promote" -l full -d 'Skip every remaining step: promote the canary now'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand promote" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand promote" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand promote" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand promote" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand promote" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand abort" -l timeout -d 'How long to wait for stable to be restored (by the running deploy, or by abort itself once no process runs it)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand abort" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand abort" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand abort" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand abort" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand abort" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand abort" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand abort" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand abort" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand abort" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand abort" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand abort" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rollback" -l to-revision -d 'Go back to this recorded revision (`mcpctl history SERVER`) instead of the previous version' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rollback" -l timeout -d 'How long a wait for Deployments to roll out may take (exit 4 past it, traffic restored)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rollback" -l smoke-url -d 'Smoke-test this URL instead of the candidate\'s Service (through the API server\'s proxy)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rollback" -l header -d 'Header for the smoke test\'s requests, as `Name: value` (repeatable)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rollback" -l smoke-timeout -d 'How long each smoke-test request may take' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rollback" -l templates -d 'Directory of templates overriding the embedded ones by file name' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rollback" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rollback" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rollback" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rollback" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rollback" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rollback" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rollback" -l dry-run -d 'Print the plan (steps, undo of each, deferred work) and change nothing'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rollback" -l no-smoke -d 'Skip the MCP smoke test (and the tool-schema gate with it)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rollback" -l force-unlock -d 'Break a lock held by another operation (dangerous: both may then change the server)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rollback" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rollback" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rollback" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rollback" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rollback" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand reconcile" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand reconcile" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand reconcile" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand reconcile" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand reconcile" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand reconcile" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand reconcile" -l force-unlock -d 'Break a lock held by another operation (dangerous: both may then change the server)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand reconcile" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand reconcile" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand reconcile" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand reconcile" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand reconcile" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rbac" -l for -d 'What the identity runs: deploy (apply, deploy, rollback, reconcile and the rest), read-only, or certs' -r -f -a "deploy\t''
read-only\t''
certs\t'`certs status`, `init-ca`, `rotate` and `rollback`'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rbac" -l name -d 'Name of the ServiceAccount, Role and binding' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rbac" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rbac" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rbac" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rbac" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rbac" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rbac" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rbac" -l cluster-wide -d 'A ClusterRole and ClusterRoleBinding instead of a Role and RoleBinding in the fleet\'s namespace'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rbac" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rbac" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rbac" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rbac" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand rbac" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand version" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand version" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand version" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand version" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand version" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand version" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand version" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand version" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand version" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand version" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand version" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand man" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand man" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand man" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand man" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand man" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand man" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand man" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand man" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand man" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand man" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand smoke" -l url -d 'MCP endpoint to test directly (http or https)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand smoke" -s H -l header -d 'Extra header on every request, `NAME: VALUE` (repeatable); values of credential-like headers are never printed' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand smoke" -l timeout -d 'Time each request may take, answer included' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand smoke" -l compare-to -d 'Also test this endpoint (the version clients use now) and classify how the tested server\'s tools differ from its tools; exit 3 on breaking changes' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand smoke" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand smoke" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand smoke" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand smoke" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand smoke" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand smoke" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand smoke" -l all -d 'Every server of the fleet, 8 at a time'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand smoke" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand smoke" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand smoke" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand smoke" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand smoke" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand schema" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand schema" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand schema" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand schema" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand schema" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand schema" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand schema" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand schema" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand schema" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand schema" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand schema" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and not __fish_seen_subcommand_from status init-ca rotate rollback rotate-ca help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and not __fish_seen_subcommand_from status init-ca rotate rollback rotate-ca help" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and not __fish_seen_subcommand_from status init-ca rotate rollback rotate-ca help" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and not __fish_seen_subcommand_from status init-ca rotate rollback rotate-ca help" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and not __fish_seen_subcommand_from status init-ca rotate rollback rotate-ca help" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and not __fish_seen_subcommand_from status init-ca rotate rollback rotate-ca help" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and not __fish_seen_subcommand_from status init-ca rotate rollback rotate-ca help" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and not __fish_seen_subcommand_from status init-ca rotate rollback rotate-ca help" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and not __fish_seen_subcommand_from status init-ca rotate rollback rotate-ca help" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and not __fish_seen_subcommand_from status init-ca rotate rollback rotate-ca help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and not __fish_seen_subcommand_from status init-ca rotate rollback rotate-ca help" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and not __fish_seen_subcommand_from status init-ca rotate rollback rotate-ca help" -f -a "status" -d 'Each server\'s certificate: validity, key, chain, names, who manages it (exit 1 when any is bad, 8 when any only expires within --warn-days)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and not __fish_seen_subcommand_from status init-ca rotate rollback rotate-ca help" -f -a "init-ca" -d 'Create or import the fleet CA into its Secret (the fleet file\'s tls.caSecret)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and not __fish_seen_subcommand_from status init-ca rotate rollback rotate-ca help" -f -a "rotate" -d 'Issue a new certificate from the fleet CA (or take given files), validate it, replace the Secret in one write, roll the Deployments and verify what is served; restore on failure'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and not __fish_seen_subcommand_from status init-ca rotate rollback rotate-ca help" -f -a "rollback" -d 'Restore the newest backup of a server\'s Secret, roll the Deployments and verify'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and not __fish_seen_subcommand_from status init-ca rotate rollback rotate-ca help" -f -a "rotate-ca" -d 'Roll the fleet CA over without an outage: publish a bundle of the old and a new CA, re-issue every server certificate from the new one; --finish drops the old CA'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and not __fish_seen_subcommand_from status init-ca rotate rollback rotate-ca help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from status" -l warn-days -d 'Exit 8 when a certificate expires within this many days (default: the fleet file\'s tls.warnDays)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from status" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from status" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from status" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from status" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from status" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from status" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from status" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from status" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from init-ca" -l secret -d 'CA Secret name (default: the fleet file\'s tls.caSecret)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from init-ca" -l import-cert -d 'Import this CA certificate (PEM) instead of creating one' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from init-ca" -l import-key -d 'The imported CA\'s private key (unencrypted PKCS#8 PEM)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from init-ca" -l key-type -d 'Key of a created CA' -r -f -a "ecdsa-p256\t''
rsa-2048\t''
rsa-3072\t''
rsa-4096\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from init-ca" -l validity -d 'Validity of a created CA' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from init-ca" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from init-ca" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from init-ca" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from init-ca" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from init-ca" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from init-ca" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from init-ca" -l force -d 'Replace an existing CA (every server certificate it issued then needs `certs rotate --all`)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from init-ca" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from init-ca" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from init-ca" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from init-ca" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from init-ca" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate" -l key-type -d 'Key of the issued certificates' -r -f -a "ecdsa-p256\t''
rsa-2048\t''
rsa-3072\t''
rsa-4096\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate" -l if-expiring-within -d 'Only rotate certificates that expire within this long (`30d`), or are bad' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate" -l cert-file -d 'Install this certificate (PEM, leaf first) instead of issuing one (one server only)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate" -l key-file -d 'The private key of --cert-file (PEM)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate" -l verify-url -d 'Check the served certificate here (`https://HOST:PORT`) with a TLS handshake trusting only the fleet CA, as `<server>.<namespace>.svc`' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate" -l verify-timeout -d 'How long the served certificate may take to become the new one (pods still terminating may serve the old one for a while)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate" -l max-parallel -d 'Servers rotated at the same time with --all' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate" -l validity -d 'Validity of an issued certificate' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate" -l keep-backups -d 'Backups kept per Secret' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate" -l timeout -d 'How long the Deployments may take to roll out (then the backup is restored, exit 3)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate" -l all -d 'Every server with `tls`, one after another (--max-parallel at a time)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate" -l force-unlock -d 'Break a lock held by another operation (dangerous: both may then change the server)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rollback" -l verify-url -d 'Check the served certificate here, as for `certs rotate`' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rollback" -l verify-timeout -d 'How long the served certificate may take to become the restored one' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rollback" -l timeout -d 'How long the Deployments may take to roll out (then the backup is restored, exit 3)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rollback" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rollback" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rollback" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rollback" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rollback" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rollback" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rollback" -l force-unlock -d 'Break a lock held by another operation (dangerous: both may then change the server)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rollback" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rollback" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rollback" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rollback" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rollback" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate-ca" -l key-type -d 'Key of the new CA and of the re-issued server certificates' -r -f -a "ecdsa-p256\t''
rsa-2048\t''
rsa-3072\t''
rsa-4096\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate-ca" -l secret -d 'CA Secret name (default: the fleet file\'s tls.caSecret)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate-ca" -l ca-validity -d 'Validity of the new CA' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate-ca" -l validity -d 'Validity of the re-issued server certificates' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate-ca" -l max-parallel -d 'Servers re-issued at the same time' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate-ca" -l timeout -d 'How long the Deployments may take to roll out (then the backup is restored, exit 3)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate-ca" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate-ca" -l context -d 'Kubeconfig context to use (default: the current context)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate-ca" -s n -l namespace -d 'Namespace (overrides the fleet file\'s namespace)' -r
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate-ca" -s f -l fleet -d 'Fleet file' -r -F
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate-ca" -s o -l output -d 'Output format for data on stdout' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate-ca" -l events -d 'How operations (deploy, rollback, reconcile) report their events: lines on stderr for people, or one JSON object per line on stdout for pipelines' -r -f -a "human\t'Lines on stderr (with GitHub Actions groups and annotations under GITHUB_ACTIONS=true)'
ndjson\t'One JSON object per line on stdout, timestamped, in order'"
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate-ca" -l finish -d 'Drop the old CA from the trust bundle (refused while a server still carries a certificate of the old CA)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate-ca" -l force-unlock -d 'Break a lock held by another operation (dangerous: both may then change the server)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate-ca" -s v -l verbose -d 'More logging on stderr (repeat for more)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate-ca" -s q -l quiet -d 'Only errors on stderr'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate-ca" -l no-color -d 'Disable colours (also honours NO_COLOR)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate-ca" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from rotate-ca" -s V -l version -d 'Print version'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from help" -f -a "status" -d 'Each server\'s certificate: validity, key, chain, names, who manages it (exit 1 when any is bad, 8 when any only expires within --warn-days)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from help" -f -a "init-ca" -d 'Create or import the fleet CA into its Secret (the fleet file\'s tls.caSecret)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from help" -f -a "rotate" -d 'Issue a new certificate from the fleet CA (or take given files), validate it, replace the Secret in one write, roll the Deployments and verify what is served; restore on failure'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from help" -f -a "rollback" -d 'Restore the newest backup of a server\'s Secret, roll the Deployments and verify'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from help" -f -a "rotate-ca" -d 'Roll the fleet CA over without an outage: publish a bundle of the old and a new CA, re-issue every server certificate from the new one; --finish drops the old CA'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand certs; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and not __fish_seen_subcommand_from init validate lint render completions diff apply delete status history deploy promote abort rollback reconcile rbac version man smoke schema certs help" -f -a "init" -d 'Write a commented example fleet file'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and not __fish_seen_subcommand_from init validate lint render completions diff apply delete status history deploy promote abort rollback reconcile rbac version man smoke schema certs help" -f -a "validate" -d 'Parse and check the fleet file, reporting every problem'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and not __fish_seen_subcommand_from init validate lint render completions diff apply delete status history deploy promote abort rollback reconcile rbac version man smoke schema certs help" -f -a "lint" -d 'Check the rendered objects against a production checklist'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and not __fish_seen_subcommand_from init validate lint render completions diff apply delete status history deploy promote abort rollback reconcile rbac version man smoke schema certs help" -f -a "render" -d 'Render Kubernetes manifests as multi-document YAML'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and not __fish_seen_subcommand_from init validate lint render completions diff apply delete status history deploy promote abort rollback reconcile rbac version man smoke schema certs help" -f -a "completions" -d 'Print shell completions'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and not __fish_seen_subcommand_from init validate lint render completions diff apply delete status history deploy promote abort rollback reconcile rbac version man smoke schema certs help" -f -a "diff" -d 'Show what `apply` would change (server-side dry run); exit 1 when it differs'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and not __fish_seen_subcommand_from init validate lint render completions diff apply delete status history deploy promote abort rollback reconcile rbac version man smoke schema certs help" -f -a "apply" -d 'Server-side apply the rendered objects to the cluster'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and not __fish_seen_subcommand_from init validate lint render completions diff apply delete status history deploy promote abort rollback reconcile rbac version man smoke schema certs help" -f -a "delete" -d 'Remove servers\' objects from the cluster, like `helm uninstall` (history kept unless --purge)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and not __fish_seen_subcommand_from init validate lint render completions diff apply delete status history deploy promote abort rollback reconcile rbac version man smoke schema certs help" -f -a "status" -d 'Fleet status: version, traffic, replicas, last rollout, certificates'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and not __fish_seen_subcommand_from init validate lint render completions diff apply delete status history deploy promote abort rollback reconcile rbac version man smoke schema certs help" -f -a "history" -d 'Recorded revisions of a server'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and not __fish_seen_subcommand_from init validate lint render completions diff apply delete status history deploy promote abort rollback reconcile rbac version man smoke schema certs help" -f -a "deploy" -d 'Deploy a new image with the server\'s strategy (canary, blue-green, rolling), gated by the MCP smoke test and, for a canary, by Prometheus'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and not __fish_seen_subcommand_from init validate lint render completions diff apply delete status history deploy promote abort rollback reconcile rbac version man smoke schema certs help" -f -a "promote" -d 'End the current canary step now (`--full`: skip every remaining step and promote)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and not __fish_seen_subcommand_from init validate lint render completions diff apply delete status history deploy promote abort rollback reconcile rbac version man smoke schema certs help" -f -a "abort" -d 'Stop a canary deploy: all traffic back to stable, the deploy exits 6'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and not __fish_seen_subcommand_from init validate lint render completions diff apply delete status history deploy promote abort rollback reconcile rbac version man smoke schema certs help" -f -a "rollback" -d 'Go back to the previous version (one traffic switch while it still runs), or undo an interrupted deploy'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and not __fish_seen_subcommand_from init validate lint render completions diff apply delete status history deploy promote abort rollback reconcile rbac version man smoke schema certs help" -f -a "reconcile" -d 'Perform due tasks (delayed scale-downs) of the fleet\'s servers'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and not __fish_seen_subcommand_from init validate lint render completions diff apply delete status history deploy promote abort rollback reconcile rbac version man smoke schema certs help" -f -a "rbac" -d 'Print the least-privilege ServiceAccount, Role and RoleBinding a CI identity needs'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and not __fish_seen_subcommand_from init validate lint render completions diff apply delete status history deploy promote abort rollback reconcile rbac version man smoke schema certs help" -f -a "version" -d 'Print the version, git commit and build date (`-o json` too)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and not __fish_seen_subcommand_from init validate lint render completions diff apply delete status history deploy promote abort rollback reconcile rbac version man smoke schema certs help" -f -a "man" -d 'Print the manual page (roff; `mcpctl man | man -l -`)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and not __fish_seen_subcommand_from init validate lint render completions diff apply delete status history deploy promote abort rollback reconcile rbac version man smoke schema certs help" -f -a "smoke" -d 'Protocol-level MCP smoke test (exit 3 when it fails or tools break)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and not __fish_seen_subcommand_from init validate lint render completions diff apply delete status history deploy promote abort rollback reconcile rbac version man smoke schema certs help" -f -a "schema" -d 'Print the JSON Schema of the fleet file, for editors (`mcpctl schema > mcpctl.schema.json`)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and not __fish_seen_subcommand_from init validate lint render completions diff apply delete status history deploy promote abort rollback reconcile rbac version man smoke schema certs help" -f -a "certs" -d 'Certificates: status, the fleet CA, verified rotation with automatic restore, rollback'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and not __fish_seen_subcommand_from init validate lint render completions diff apply delete status history deploy promote abort rollback reconcile rbac version man smoke schema certs help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and __fish_seen_subcommand_from certs" -f -a "status" -d 'Each server\'s certificate: validity, key, chain, names, who manages it (exit 1 when any is bad, 8 when any only expires within --warn-days)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and __fish_seen_subcommand_from certs" -f -a "init-ca" -d 'Create or import the fleet CA into its Secret (the fleet file\'s tls.caSecret)'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and __fish_seen_subcommand_from certs" -f -a "rotate" -d 'Issue a new certificate from the fleet CA (or take given files), validate it, replace the Secret in one write, roll the Deployments and verify what is served; restore on failure'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and __fish_seen_subcommand_from certs" -f -a "rollback" -d 'Restore the newest backup of a server\'s Secret, roll the Deployments and verify'
complete -c mcpctl -n "__fish_mcpctl_using_subcommand help; and __fish_seen_subcommand_from certs" -f -a "rotate-ca" -d 'Roll the fleet CA over without an outage: publish a bundle of the old and a new CA, re-issue every server certificate from the new one; --finish drops the old CA'
