//! The shape of the fleet file: every block, its keys, what each key takes and
//! what it means. One table serves two readers: the decoder (`read`, `blocks`)
//! takes the valid keys of each block from here, so an unknown key and the
//! "did you mean" hint come from it, and `schema` turns it into the JSON
//! Schema editors use. The decoder's checks of each value are tested against
//! the kinds written here (`schema_tests`), so the two cannot drift apart.

/// A mapping of the fleet file (the document, `defaults`, a server, `canary`…).
#[derive(Debug)]
pub struct Block {
    /// Name of the block's definition in the schema (`$defs`).
    pub name: &'static str,
    pub doc: &'static str,
    /// The keys, in groups: a server is its own keys followed by the settings.
    pub parts: &'static [&'static [Field]],
}

/// One key of a block.
#[derive(Debug)]
pub struct Field {
    pub key: &'static str,
    pub kind: Kind,
    pub doc: &'static str,
    /// Must be written in this block itself (not only after merging `defaults`).
    pub required: bool,
}

/// What a key takes, as far as the decoder checks it on its own (cross-field
/// rules such as "`canary` needs `prometheus.url`" come later, in `resolve`).
#[derive(Debug)]
pub enum Kind {
    /// Text: a string, or a number or boolean taken as written (`cpu: 1`).
    Text,
    /// A DNS-1123 label (lower-case letters, digits, `-` inside) of at most
    /// `max` characters; text like `Text`, so `123` is a label too.
    Label {
        max: usize,
    },
    /// A whole number in `min..=max`.
    Int {
        min: i64,
        max: i64,
    },
    /// A number, whole or decimal, within the bounds given.
    Number {
        min: Option<f64>,
        max: Option<f64>,
    },
    Bool,
    /// `250ms`, `30s`, `5m`, `1h30m`.
    Duration,
    /// One of these words.
    Choice(&'static [&'static str]),
    /// A list of text; a key left empty is an empty list.
    TextList,
    /// A non-empty list of whole numbers in `min..=max`.
    IntList {
        min: i64,
        max: i64,
    },
    /// A mapping of text keys to text values.
    TextMap,
    /// A nested block; a key left empty is an empty mapping.
    Block(&'static Block),
    /// A list of blocks.
    BlockList(&'static Block),
}

impl Block {
    pub fn fields(&self) -> impl Iterator<Item = &'static Field> + use<> {
        self.parts.iter().flat_map(|p| p.iter())
    }

    pub fn keys(&self) -> Vec<&'static str> {
        self.fields().map(|f| f.key).collect()
    }

    pub fn has(&self, key: &str) -> bool {
        self.fields().any(|f| f.key == key)
    }
}

const U32_MAX: i64 = u32::MAX as i64;

const fn field(key: &'static str, kind: Kind, doc: &'static str) -> Field {
    Field {
        key,
        kind,
        doc,
        required: false,
    }
}

const fn required(key: &'static str, kind: Kind, doc: &'static str) -> Field {
    Field {
        key,
        kind,
        doc,
        required: true,
    }
}

const fn at_least(min: i64) -> Kind {
    Kind::Int { min, max: U32_MAX }
}

const fn fraction() -> Kind {
    Kind::Number {
        min: Some(0.0),
        max: Some(1.0),
    }
}

const fn ratio() -> Kind {
    Kind::Number {
        min: Some(1.0),
        max: None,
    }
}

pub const ROUTER_NAMES: &[&str] = &["service", "istio", "gateway-api"];
pub const STRATEGY_NAMES: &[&str] = &["rolling", "blue-green", "canary"];
pub const NO_DATA_NAMES: &[&str] = &["fail", "pass", "ignore"];

/// The whole document.
pub static FLEET: Block = Block {
    name: "fleet",
    doc: "An mcpctl fleet file: fleet-wide defaults and the MCP servers that override them",
    parts: &[&[
        required(
            "fleet",
            Kind::Label { max: 63 },
            "Name of the fleet (DNS-1123 label); becomes app.kubernetes.io/part-of",
        ),
        required(
            "namespace",
            Kind::Label { max: 63 },
            "Namespace of every server (DNS-1123 label); -n overrides it",
        ),
        field(
            "dashboard",
            Kind::Block(&DASHBOARD),
            "The fleet's Grafana dashboard (a ConfigMap for the Grafana sidecar)",
        ),
        field(
            "defaults",
            Kind::Block(&SETTINGS),
            "Settings every server takes unless it sets its own",
        ),
        required(
            "servers",
            Kind::BlockList(&SERVER),
            "The MCP servers of the fleet (at least one)",
        ),
    ]],
};

const SERVER_OWN: &[Field] = &[
    required(
        "name",
        Kind::Label {
            max: super::names::MAX_SERVER_NAME,
        },
        "Server name: a DNS-1123 label of at most 55 characters, unique in the fleet",
    ),
    required(
        "image",
        Kind::Text,
        "Container image, `registry/repo:tag` and/or `@sha256:<64 hex>`",
    ),
];

const SETTINGS_FIELDS: &[Field] = &[
    field("replicas", at_least(0), "Pod replicas (default 2)"),
    field(
        "port",
        Kind::Int { min: 1, max: 65535 },
        "Port the MCP server listens on (default 8080)",
    ),
    field(
        "path",
        Kind::Text,
        "HTTP path of the MCP endpoint, starting with / (default /mcp)",
    ),
    field(
        "router",
        Kind::Choice(ROUTER_NAMES),
        "How traffic is shifted (default service); gateway-api needs ingress.gateway",
    ),
    field(
        "strategy",
        Kind::Choice(STRATEGY_NAMES),
        "How a new version is rolled out (default rolling); canary needs prometheus.url",
    ),
    field(
        "canary",
        Kind::Block(&CANARY),
        "Canary stages and their Prometheus analysis",
    ),
    field("blueGreen", Kind::Block(&BLUE_GREEN), "Blue-green settings"),
    field(
        "prometheus",
        Kind::Block(&PROMETHEUS),
        "The Prometheus that canary analysis queries",
    ),
    field(
        "tls",
        Kind::Block(&TLS),
        "TLS for the server (having the key turns it on)",
    ),
    field(
        "resources",
        Kind::Block(&RESOURCES),
        "CPU and memory requests and limits",
    ),
    field(
        "autoscaling",
        Kind::Block(&AUTOSCALING),
        "A HorizontalPodAutoscaler (having the key turns it on)",
    ),
    field(
        "drainSeconds",
        Kind::Int { min: 0, max: 3600 },
        "preStop delay so legacy MCP sessions drain (default 15)",
    ),
    field(
        "ingress",
        Kind::Block(&INGRESS),
        "Hosts and gateways that route to the server",
    ),
    field(
        "allowFromNamespaces",
        Kind::TextList,
        "Namespaces the NetworkPolicy admits",
    ),
    field(
        "labels",
        Kind::TextMap,
        "Labels on every object (not app.kubernetes.io/* set by mcpctl, nothing under mcpctl.io/)",
    ),
    field(
        "podAnnotations",
        Kind::TextMap,
        "Annotations on the pods (nothing under mcpctl.io/)",
    ),
    field(
        "env",
        Kind::TextMap,
        "Non-secret environment variables (a ConfigMap); names [A-Za-z_][A-Za-z0-9_]*",
    ),
    field(
        "secretEnv",
        Kind::BlockList(&SECRET_ENV),
        "Environment variables from Secrets",
    ),
];

/// `defaults`: every server setting but `name` and `image`.
pub static SETTINGS: Block = Block {
    name: "settings",
    doc: "Settings of a server; in `defaults` they apply to every server",
    parts: &[SETTINGS_FIELDS],
};

/// An entry of `servers`: its own keys, then the settings.
pub static SERVER: Block = Block {
    name: "server",
    doc: "One MCP server: its name and image, and settings that override `defaults`",
    parts: &[SERVER_OWN, SETTINGS_FIELDS],
};

pub static CANARY: Block = Block {
    name: "canary",
    doc: "Canary stages: traffic percentages, each held for stepDuration while the analysis samples Prometheus",
    parts: &[&[
        field(
            "steps",
            Kind::IntList { min: 1, max: 100 },
            "Traffic percentages, strictly increasing, ending at 100 (default [10, 25, 50, 100])",
        ),
        field(
            "stepDuration",
            Kind::Duration,
            "How long each step holds (default 1m)",
        ),
        field(
            "analysis",
            Kind::Block(&ANALYSIS),
            "What each sample checks",
        ),
    ]],
};

pub static ANALYSIS: Block = Block {
    name: "analysis",
    doc: "The Prometheus analysis of each canary step",
    parts: &[&[
        field(
            "interval",
            Kind::Duration,
            "Time between samples, at most stepDuration (default 30s)",
        ),
        field(
            "maxErrorRate",
            fraction(),
            "Highest error rate that passes, as a fraction (0.01 is 1%; default 0.01)",
        ),
        field(
            "minRequests",
            at_least(0),
            "A sample with fewer requests in the window is no data (default 20)",
        ),
        field(
            "noData",
            Kind::Choice(NO_DATA_NAMES),
            "What a sample without data counts as (default fail)",
        ),
        field(
            "failureLimit",
            at_least(1),
            "This many failed samples abort the rollout (default 1)",
        ),
        field(
            "query",
            Kind::Text,
            "PromQL template of the error rate; variables {{ server }}, {{ namespace }}, {{ track }}, {{ version }}, {{ interval }}, {{ window }}",
        ),
        field(
            "window",
            Kind::Duration,
            "Range of rate()/increase() ({{ window }}), at least 1s (default 1m)",
        ),
        field(
            "maxErrorRateIncrease",
            fraction(),
            "The canary may also reach the stable track's error rate plus this",
        ),
        field(
            "maxErrorRateRatio",
            ratio(),
            "The canary may also reach the stable track's error rate times this",
        ),
        field(
            "metrics",
            Kind::BlockList(&METRIC),
            "Further metrics, each with its own threshold",
        ),
    ]],
};

pub static METRIC: Block = Block {
    name: "metric",
    doc: "A further analysis metric: exactly one of max and min; a baseline only with max",
    parts: &[&[
        required(
            "name",
            Kind::Label { max: 63 },
            "Metric name: a DNS label, unique, not `requests` or `error-rate`",
        ),
        required("query", Kind::Text, "PromQL template of the metric"),
        field(
            "max",
            Kind::Number {
                min: None,
                max: None,
            },
            "A value above this fails the sample",
        ),
        field(
            "min",
            Kind::Number {
                min: None,
                max: None,
            },
            "A value below this fails the sample",
        ),
        field(
            "maxIncrease",
            Kind::Number {
                min: Some(0.0),
                max: None,
            },
            "The canary may also reach the stable track's value plus this",
        ),
        field(
            "maxRatio",
            ratio(),
            "The canary may also reach the stable track's value times this",
        ),
    ]],
};

pub static BLUE_GREEN: Block = Block {
    name: "blueGreen",
    doc: "Blue-green settings",
    parts: &[&[field(
        "scaleDownDelay",
        Kind::Duration,
        "How long the old colour stays up after a switch (default 10m)",
    )]],
};

pub static DASHBOARD: Block = Block {
    name: "dashboard",
    doc: "The fleet's Grafana dashboard",
    parts: &[&[field(
        "enabled",
        Kind::Bool,
        "false leaves the dashboard ConfigMap out (default true)",
    )]],
};

pub static PROMETHEUS: Block = Block {
    name: "prometheus",
    doc: "The Prometheus that canary analysis queries",
    parts: &[&[field("url", Kind::Text, "http:// or https:// URL")]],
};

pub static TLS: Block = Block {
    name: "tls",
    doc: "TLS for the server; having the key turns it on",
    parts: &[&[
        field(
            "enabled",
            Kind::Bool,
            "false turns off TLS inherited from defaults (default true)",
        ),
        field(
            "secretName",
            Kind::Text,
            "Secret of the server's certificate (default <server>-tls)",
        ),
        field(
            "caSecret",
            Kind::Text,
            "Secret of the CA (default <fleet>-ca)",
        ),
        field(
            "warnDays",
            at_least(1),
            "Warn when the certificate expires within this many days (default 30)",
        ),
        field(
            "dnsNames",
            Kind::TextList,
            "Names the certificate covers besides the Service names (`*.` allowed)",
        ),
    ]],
};

pub static RESOURCES: Block = Block {
    name: "resources",
    doc: "CPU and memory requests and limits; a request must not exceed its limit",
    parts: &[&[
        field(
            "requests",
            Kind::Block(&RESOURCE_LIST),
            "Requests (default cpu 100m, memory 128Mi)",
        ),
        field(
            "limits",
            Kind::Block(&RESOURCE_LIST),
            "Limits (default cpu 500m, memory 256Mi)",
        ),
    ]],
};

pub static RESOURCE_LIST: Block = Block {
    name: "resourceList",
    doc: "Kubernetes quantities",
    parts: &[&[
        field("cpu", Kind::Text, "CPU quantity, such as 100m or 1"),
        field("memory", Kind::Text, "Memory quantity, such as 128Mi"),
    ]],
};

pub static AUTOSCALING: Block = Block {
    name: "autoscaling",
    doc: "A HorizontalPodAutoscaler; having the key turns it on",
    parts: &[&[
        field(
            "enabled",
            Kind::Bool,
            "false turns off autoscaling inherited from defaults (default true)",
        ),
        field(
            "minReplicas",
            at_least(1),
            "Fewest replicas, at most maxReplicas (default replicas)",
        ),
        field(
            "maxReplicas",
            at_least(1),
            "Most replicas (required once defaults are merged)",
        ),
        field(
            "targetCPU",
            at_least(1),
            "Target CPU use, percent of the request (80 when neither target is given)",
        ),
        field(
            "targetMemory",
            at_least(1),
            "Target memory use, percent of the request",
        ),
        field(
            "customMetric",
            Kind::Block(&CUSTOM_METRIC),
            "A per-pod metric, such as active MCP sessions",
        ),
    ]],
};

pub static CUSTOM_METRIC: Block = Block {
    name: "customMetric",
    doc: "A per-pod metric; both keys required",
    parts: &[&[
        field("name", Kind::Text, "Metric name"),
        field(
            "averageValue",
            Kind::Text,
            "Target average per pod (a quantity)",
        ),
    ]],
};

pub static INGRESS: Block = Block {
    name: "ingress",
    doc: "Hosts and gateways that route to the server",
    parts: &[&[
        field(
            "hosts",
            Kind::TextList,
            "Host names (`*.` allowed); a host and path belong to one server only",
        ),
        field(
            "istioGateways",
            Kind::TextList,
            "Istio gateways, `namespace/name` or `name`",
        ),
        field(
            "gateway",
            Kind::Block(&GATEWAY),
            "The Gateway API parent of the HTTPRoute",
        ),
    ]],
};

pub static GATEWAY: Block = Block {
    name: "gateway",
    doc: "A Gateway API parent reference",
    parts: &[&[
        field("name", Kind::Text, "Gateway name (required once merged)"),
        field("namespace", Kind::Label { max: 63 }, "Gateway namespace"),
        field("sectionName", Kind::Text, "Listener of the Gateway"),
    ]],
};

pub static SECRET_ENV: Block = Block {
    name: "secretEnv",
    doc: "An environment variable from a key of a Secret (values are never read or printed)",
    parts: &[&[
        required("name", Kind::Text, "Environment variable name"),
        required("secret", Kind::Text, "Secret name"),
        required("key", Kind::Text, "Key in the Secret"),
    ]],
};
