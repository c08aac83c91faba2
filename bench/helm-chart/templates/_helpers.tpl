{{/* Standard labels of every object of a server. Call with (dict "s" $s "root" $). */}}
{{- define "mcp.labels" -}}
app.kubernetes.io/component: mcp-server
app.kubernetes.io/instance: {{ .s.name }}
app.kubernetes.io/managed-by: mcpctl
app.kubernetes.io/name: {{ .s.name }}
app.kubernetes.io/part-of: {{ .root.Values.fleet }}
app.kubernetes.io/version: {{ .s.version | quote }}
{{- end }}

{{/* Labels that select every pod of a server. Call with the server. */}}
{{- define "mcp.selector" -}}
app.kubernetes.io/instance: {{ .name }}
app.kubernetes.io/name: {{ .name }}
{{- end }}

{{/* The Deployments of a server as a JSON list: name, label key/value, replicas. */}}
{{- define "mcp.tracks" -}}
{{- $s := . -}}
{{- if eq $s.strategy "rolling" -}}
{{- list (dict "name" $s.name "key" "" "value" "" "replicas" $s.replicas "primary" true) | toJson -}}
{{- else if eq $s.strategy "canary" -}}
{{- list (dict "name" $s.name "key" "mcpctl.io/track" "value" "stable" "replicas" $s.replicas "primary" true) (dict "name" (printf "%s-canary" $s.name) "key" "mcpctl.io/track" "value" "canary" "replicas" 0 "primary" false) | toJson -}}
{{- else -}}
{{- list (dict "name" (printf "%s-blue" $s.name) "key" "mcpctl.io/colour" "value" "blue" "replicas" $s.replicas "primary" true) (dict "name" (printf "%s-green" $s.name) "key" "mcpctl.io/colour" "value" "green" "replicas" 0 "primary" false) | toJson -}}
{{- end -}}
{{- end }}

{{/* In-cluster host name of a server's primary Service. */}}
{{- define "mcp.host" -}}
{{ .s.name }}.{{ .root.Values.namespace }}.svc.cluster.local
{{- end }}
