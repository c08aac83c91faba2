
use builtin;
use str;

set edit:completion:arg-completer[mcpctl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'mcpctl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'mcpctl'= {
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)'
            cand --context 'Kubeconfig context to use (default: the current context)'
            cand -n 'Namespace (overrides the fleet file''s namespace)'
            cand --namespace 'Namespace (overrides the fleet file''s namespace)'
            cand -f 'Fleet file'
            cand --fleet 'Fleet file'
            cand -o 'Output format for data on stdout'
            cand --output 'Output format for data on stdout'
            cand -v 'More logging on stderr (repeat for more)'
            cand --verbose 'More logging on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand --no-color 'Disable colours (also honours NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Write a commented example fleet file'
            cand validate 'Parse and check the fleet file, reporting every problem'
            cand lint 'Check the rendered objects against a production checklist'
            cand render 'Render Kubernetes manifests as multi-document YAML'
            cand completions 'Print shell completions'
            cand diff 'Show what `apply` would change (server-side dry run); exit 1 when it differs'
            cand apply 'Server-side apply the rendered objects to the cluster'
            cand status 'Fleet status: version, traffic, replicas, last rollout, certificates'
            cand history 'Recorded revisions of a server'
            cand deploy 'Deploy a new image with the server''s strategy (blue-green, rolling), gated by the MCP smoke test'
            cand rollback 'Go back to the previous version (one traffic switch while it still runs), or undo an interrupted deploy'
            cand reconcile 'Perform due tasks (delayed scale-downs) of the fleet''s servers'
            cand smoke 'Protocol-level MCP smoke test (exit 3 when it fails or tools break)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpctl;init'= {
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)'
            cand --context 'Kubeconfig context to use (default: the current context)'
            cand -n 'Namespace (overrides the fleet file''s namespace)'
            cand --namespace 'Namespace (overrides the fleet file''s namespace)'
            cand -f 'Fleet file'
            cand --fleet 'Fleet file'
            cand -o 'Output format for data on stdout'
            cand --output 'Output format for data on stdout'
            cand --force 'Overwrite an existing file'
            cand -v 'More logging on stderr (repeat for more)'
            cand --verbose 'More logging on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand --no-color 'Disable colours (also honours NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mcpctl;validate'= {
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)'
            cand --context 'Kubeconfig context to use (default: the current context)'
            cand -n 'Namespace (overrides the fleet file''s namespace)'
            cand --namespace 'Namespace (overrides the fleet file''s namespace)'
            cand -f 'Fleet file'
            cand --fleet 'Fleet file'
            cand -o 'Output format for data on stdout'
            cand --output 'Output format for data on stdout'
            cand -v 'More logging on stderr (repeat for more)'
            cand --verbose 'More logging on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand --no-color 'Disable colours (also honours NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mcpctl;lint'= {
            cand --templates 'Directory of templates overriding the embedded ones by file name'
            cand --output-dir 'Write one file per object into DIR instead of stdout (`render` only)'
            cand --kube-version 'Kubernetes version to render for (like `helm template --kube-version`)'
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)'
            cand --context 'Kubeconfig context to use (default: the current context)'
            cand -n 'Namespace (overrides the fleet file''s namespace)'
            cand --namespace 'Namespace (overrides the fleet file''s namespace)'
            cand -f 'Fleet file'
            cand --fleet 'Fleet file'
            cand -o 'Output format for data on stdout'
            cand --output 'Output format for data on stdout'
            cand -v 'More logging on stderr (repeat for more)'
            cand --verbose 'More logging on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand --no-color 'Disable colours (also honours NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mcpctl;render'= {
            cand --templates 'Directory of templates overriding the embedded ones by file name'
            cand --output-dir 'Write one file per object into DIR instead of stdout (`render` only)'
            cand --kube-version 'Kubernetes version to render for (like `helm template --kube-version`)'
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)'
            cand --context 'Kubeconfig context to use (default: the current context)'
            cand -n 'Namespace (overrides the fleet file''s namespace)'
            cand --namespace 'Namespace (overrides the fleet file''s namespace)'
            cand -f 'Fleet file'
            cand --fleet 'Fleet file'
            cand -o 'Output format for data on stdout'
            cand --output 'Output format for data on stdout'
            cand -v 'More logging on stderr (repeat for more)'
            cand --verbose 'More logging on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand --no-color 'Disable colours (also honours NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mcpctl;completions'= {
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)'
            cand --context 'Kubeconfig context to use (default: the current context)'
            cand -n 'Namespace (overrides the fleet file''s namespace)'
            cand --namespace 'Namespace (overrides the fleet file''s namespace)'
            cand -f 'Fleet file'
            cand --fleet 'Fleet file'
            cand -o 'Output format for data on stdout'
            cand --output 'Output format for data on stdout'
            cand -v 'More logging on stderr (repeat for more)'
            cand --verbose 'More logging on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand --no-color 'Disable colours (also honours NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mcpctl;diff'= {
            cand --templates 'Directory of templates overriding the embedded ones by file name'
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)'
            cand --context 'Kubeconfig context to use (default: the current context)'
            cand -n 'Namespace (overrides the fleet file''s namespace)'
            cand --namespace 'Namespace (overrides the fleet file''s namespace)'
            cand -f 'Fleet file'
            cand --fleet 'Fleet file'
            cand -o 'Output format for data on stdout'
            cand --output 'Output format for data on stdout'
            cand --force-conflicts 'Diff as if fields owned by other field managers were taken'
            cand -v 'More logging on stderr (repeat for more)'
            cand --verbose 'More logging on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand --no-color 'Disable colours (also honours NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mcpctl;apply'= {
            cand --templates 'Directory of templates overriding the embedded ones by file name'
            cand --dry-run 'Only validate with the API server; change nothing'
            cand --timeout 'How long --wait waits (exit 4 when it runs out)'
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)'
            cand --context 'Kubeconfig context to use (default: the current context)'
            cand -n 'Namespace (overrides the fleet file''s namespace)'
            cand --namespace 'Namespace (overrides the fleet file''s namespace)'
            cand -f 'Fleet file'
            cand --fleet 'Fleet file'
            cand -o 'Output format for data on stdout'
            cand --output 'Output format for data on stdout'
            cand --wait 'Wait until the Deployments have rolled out (like `kubectl rollout status`)'
            cand --force-conflicts 'Take fields owned by other field managers instead of failing on the conflict'
            cand --force-unlock 'Break a lock held by another operation (dangerous: both may then change the server)'
            cand --force 'Go on although the journal records another operation interrupted on a server (it is forgotten; `mcpctl deploy --resume` or `mcpctl rollback` would finish it)'
            cand -v 'More logging on stderr (repeat for more)'
            cand --verbose 'More logging on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand --no-color 'Disable colours (also honours NO_COLOR)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mcpctl;status'= {
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)'
            cand --context 'Kubeconfig context to use (default: the current context)'
            cand -n 'Namespace (overrides the fleet file''s namespace)'
            cand --namespace 'Namespace (overrides the fleet file''s namespace)'
            cand -f 'Fleet file'
            cand --fleet 'Fleet file'
            cand -o 'Output format for data on stdout'
            cand --output 'Output format for data on stdout'
            cand --watch 'Keep watching and print again on every change'
            cand -v 'More logging on stderr (repeat for more)'
            cand --verbose 'More logging on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand --no-color 'Disable colours (also honours NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mcpctl;history'= {
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)'
            cand --context 'Kubeconfig context to use (default: the current context)'
            cand -n 'Namespace (overrides the fleet file''s namespace)'
            cand --namespace 'Namespace (overrides the fleet file''s namespace)'
            cand -f 'Fleet file'
            cand --fleet 'Fleet file'
            cand -o 'Output format for data on stdout'
            cand --output 'Output format for data on stdout'
            cand -v 'More logging on stderr (repeat for more)'
            cand --verbose 'More logging on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand --no-color 'Disable colours (also honours NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mcpctl;deploy'= {
            cand --image 'Image to deploy (default: the image the fleet file names)'
            cand --strategy 'Strategy; must be the server''s strategy in the fleet file'
            cand --scale-down-delay 'How long the previous colour stays up after the switch (default: the fleet file''s blueGreen.scaleDownDelay)'
            cand --timeout 'How long a wait for Deployments to roll out may take (exit 4 past it, traffic restored)'
            cand --smoke-url 'Smoke-test this URL instead of the candidate''s Service (through the API server''s proxy)'
            cand --header 'Header for the smoke test''s requests, as `Name: value` (repeatable)'
            cand --smoke-timeout 'How long each smoke-test request may take'
            cand --templates 'Directory of templates overriding the embedded ones by file name'
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)'
            cand --context 'Kubeconfig context to use (default: the current context)'
            cand -n 'Namespace (overrides the fleet file''s namespace)'
            cand --namespace 'Namespace (overrides the fleet file''s namespace)'
            cand -f 'Fleet file'
            cand --fleet 'Fleet file'
            cand -o 'Output format for data on stdout'
            cand --output 'Output format for data on stdout'
            cand --allow-breaking-tools 'Deploy even when the candidate removes or narrows tools'
            cand --keep-failed 'Keep a failed candidate running (scaled up) for debugging'
            cand --resume 'Continue the interrupted deploy recorded in the journal from its recorded step'
            cand --force 'Go on although the journal records another operation interrupted (it is forgotten)'
            cand --dry-run 'Print the plan (steps, undo of each, deferred work) and change nothing'
            cand --no-smoke 'Skip the MCP smoke test (and the tool-schema gate with it)'
            cand --force-unlock 'Break a lock held by another operation (dangerous: both may then change the server)'
            cand -v 'More logging on stderr (repeat for more)'
            cand --verbose 'More logging on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand --no-color 'Disable colours (also honours NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mcpctl;rollback'= {
            cand --to-revision 'Go back to this recorded revision (`mcpctl history SERVER`) instead of the previous version'
            cand --timeout 'How long a wait for Deployments to roll out may take (exit 4 past it, traffic restored)'
            cand --smoke-url 'Smoke-test this URL instead of the candidate''s Service (through the API server''s proxy)'
            cand --header 'Header for the smoke test''s requests, as `Name: value` (repeatable)'
            cand --smoke-timeout 'How long each smoke-test request may take'
            cand --templates 'Directory of templates overriding the embedded ones by file name'
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)'
            cand --context 'Kubeconfig context to use (default: the current context)'
            cand -n 'Namespace (overrides the fleet file''s namespace)'
            cand --namespace 'Namespace (overrides the fleet file''s namespace)'
            cand -f 'Fleet file'
            cand --fleet 'Fleet file'
            cand -o 'Output format for data on stdout'
            cand --output 'Output format for data on stdout'
            cand --dry-run 'Print the plan (steps, undo of each, deferred work) and change nothing'
            cand --no-smoke 'Skip the MCP smoke test (and the tool-schema gate with it)'
            cand --force-unlock 'Break a lock held by another operation (dangerous: both may then change the server)'
            cand -v 'More logging on stderr (repeat for more)'
            cand --verbose 'More logging on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand --no-color 'Disable colours (also honours NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mcpctl;reconcile'= {
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)'
            cand --context 'Kubeconfig context to use (default: the current context)'
            cand -n 'Namespace (overrides the fleet file''s namespace)'
            cand --namespace 'Namespace (overrides the fleet file''s namespace)'
            cand -f 'Fleet file'
            cand --fleet 'Fleet file'
            cand -o 'Output format for data on stdout'
            cand --output 'Output format for data on stdout'
            cand --force-unlock 'Break a lock held by another operation (dangerous: both may then change the server)'
            cand -v 'More logging on stderr (repeat for more)'
            cand --verbose 'More logging on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand --no-color 'Disable colours (also honours NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mcpctl;smoke'= {
            cand --url 'MCP endpoint to test directly (http or https)'
            cand -H 'Extra header on every request, `NAME: VALUE` (repeatable); values of credential-like headers are never printed'
            cand --header 'Extra header on every request, `NAME: VALUE` (repeatable); values of credential-like headers are never printed'
            cand --timeout 'Time each request may take, answer included'
            cand --compare-to 'Also test this endpoint (the version clients use now) and classify how the tested server''s tools differ from its tools; exit 3 on breaking changes'
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)'
            cand --context 'Kubeconfig context to use (default: the current context)'
            cand -n 'Namespace (overrides the fleet file''s namespace)'
            cand --namespace 'Namespace (overrides the fleet file''s namespace)'
            cand -f 'Fleet file'
            cand --fleet 'Fleet file'
            cand -o 'Output format for data on stdout'
            cand --output 'Output format for data on stdout'
            cand --all 'Every server of the fleet, 8 at a time'
            cand -v 'More logging on stderr (repeat for more)'
            cand --verbose 'More logging on stderr (repeat for more)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand --no-color 'Disable colours (also honours NO_COLOR)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mcpctl;help'= {
            cand init 'Write a commented example fleet file'
            cand validate 'Parse and check the fleet file, reporting every problem'
            cand lint 'Check the rendered objects against a production checklist'
            cand render 'Render Kubernetes manifests as multi-document YAML'
            cand completions 'Print shell completions'
            cand diff 'Show what `apply` would change (server-side dry run); exit 1 when it differs'
            cand apply 'Server-side apply the rendered objects to the cluster'
            cand status 'Fleet status: version, traffic, replicas, last rollout, certificates'
            cand history 'Recorded revisions of a server'
            cand deploy 'Deploy a new image with the server''s strategy (blue-green, rolling), gated by the MCP smoke test'
            cand rollback 'Go back to the previous version (one traffic switch while it still runs), or undo an interrupted deploy'
            cand reconcile 'Perform due tasks (delayed scale-downs) of the fleet''s servers'
            cand smoke 'Protocol-level MCP smoke test (exit 3 when it fails or tools break)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mcpctl;help;init'= {
        }
        &'mcpctl;help;validate'= {
        }
        &'mcpctl;help;lint'= {
        }
        &'mcpctl;help;render'= {
        }
        &'mcpctl;help;completions'= {
        }
        &'mcpctl;help;diff'= {
        }
        &'mcpctl;help;apply'= {
        }
        &'mcpctl;help;status'= {
        }
        &'mcpctl;help;history'= {
        }
        &'mcpctl;help;deploy'= {
        }
        &'mcpctl;help;rollback'= {
        }
        &'mcpctl;help;reconcile'= {
        }
        &'mcpctl;help;smoke'= {
        }
        &'mcpctl;help;help'= {
        }
    ]
    $completions[$command]
}
