//! Name rules Kubernetes enforces, checked before anything reaches a cluster.
//! Each check returns `Err(reason)` with a sentence that says what is wrong.

/// Longest suffix mcpctl appends to a server name (`<name>-preview`,
/// `<name>-canary`), so server names leave room for it within 63 characters.
pub const LONGEST_SUFFIX: &str = "-preview";

/// Longest server name, so that every derived object name is a valid label.
pub const MAX_SERVER_NAME: usize = 63 - LONGEST_SUFFIX.len();

/// RFC 1123 label (Kubernetes `IsDNS1123Label`): lower-case alphanumerics and
/// `-`, starting and ending alphanumeric, at most `max` characters.
pub fn dns_label(s: &str, max: usize) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > max {
        return Err(format!(
            "is {} characters long; the limit is {max}",
            s.len()
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        let what = if c.is_ascii_uppercase() {
            "an upper-case letter".to_string()
        } else {
            format!("`{c}`")
        };
        return Err(format!(
            "contains {what}; use only lower-case letters, digits and `-` (a DNS-1123 label)"
        ));
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err("must start and end with a letter or digit (a DNS-1123 label)".into());
    }
    Ok(())
}

/// RFC 1123 subdomain (`IsDNS1123Subdomain`): dot-separated labels, at most
/// 253 characters. Secret names are subdomains.
pub fn dns_subdomain(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > 253 {
        return Err(format!("is {} characters long; the limit is 253", s.len()));
    }
    for part in s.split('.') {
        dns_label(part, 63).map_err(|e| {
            if part.is_empty() {
                "has an empty part between dots".to_string()
            } else {
                format!("part `{part}` {e}")
            }
        })?;
    }
    Ok(())
}

/// A hostname for routing, optionally with a leading `*.` wildcard.
pub fn hostname(s: &str) -> Result<(), String> {
    let rest = s.strip_prefix("*.").unwrap_or(s);
    dns_subdomain(rest)
}

/// An environment variable name usable from a shell: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn env_var(s: &str) -> Result<(), String> {
    let mut chars = s.chars();
    match chars.next() {
        None => return Err("must not be empty".into()),
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        Some(_) => return Err("must start with a letter or `_`".into()),
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(format!("contains `{c}`; use only letters, digits and `_`"));
    }
    Ok(())
}

/// A key inside a Secret: `[-._a-zA-Z0-9]+`, at most 253 characters.
pub fn secret_key(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.len() > 253 {
        return Err(format!("is {} characters long; the limit is 253", s.len()));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
    {
        return Err(format!(
            "contains `{c}`; use only letters, digits, `-`, `.` and `_`"
        ));
    }
    Ok(())
}

/// A label or annotation key: an optional DNS subdomain prefix and `/`, then a
/// name of at most 63 characters (`[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`).
pub fn qualified_name(s: &str) -> Result<(), String> {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix {
        dns_subdomain(p).map_err(|e| format!("prefix `{p}` {e}"))?;
    }
    if name.is_empty() {
        return Err("needs a name (after the `/`, if any)".into());
    }
    if name.len() > 63 {
        return Err(format!(
            "name part is {} characters long; the limit is 63",
            name.len()
        ));
    }
    name_chars(name)
}

/// Label keys mcpctl sets on every object itself; selectors depend on some of
/// them, so a fleet file may not set them.
pub const RESERVED_LABELS: &[&str] = &[
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/component",
    // ApplySet membership (crate::applyset): a fleet file's value would take an
    // object out of the fleet's set, or into another.
    "applyset.kubernetes.io/part-of",
    "applyset.kubernetes.io/id",
];

/// Prefix of mcpctl's own labels and annotations (track, colour, config hash).
pub const RESERVED_PREFIX: &str = "mcpctl.io/";

/// A label key a fleet file may set: valid, and not one mcpctl sets itself.
pub fn user_label_key(s: &str) -> Result<(), String> {
    qualified_name(s)?;
    if RESERVED_LABELS.contains(&s) || s.starts_with(RESERVED_PREFIX) {
        return Err("is set by mcpctl itself; choose another key".into());
    }
    Ok(())
}

/// An annotation key a fleet file may set: valid, and not under `mcpctl.io/`.
pub fn user_annotation_key(s: &str) -> Result<(), String> {
    qualified_name(s)?;
    if s.starts_with(RESERVED_PREFIX) {
        return Err(format!(
            "is reserved: mcpctl sets the `{RESERVED_PREFIX}` annotations itself"
        ));
    }
    Ok(())
}

/// A label value: empty, or at most 63 characters of `[A-Za-z0-9._-]`,
/// starting and ending alphanumeric.
pub fn label_value(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Ok(());
    }
    if s.len() > 63 {
        return Err(format!(
            "is {} characters long; a label value is at most 63",
            s.len()
        ));
    }
    name_chars(s)
}

fn name_chars(s: &str) -> Result<(), String> {
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
    {
        return Err(format!(
            "contains `{c}`; use only letters, digits, `-`, `.` and `_`"
        ));
    }
    let first = s.chars().next().unwrap_or('a');
    let last = s.chars().last().unwrap_or('a');
    if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return Err("must start and end with a letter or digit".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_labels() {
        assert!(dns_label("github-mcp", 63).is_ok());
        assert!(dns_label("a", 63).is_ok());
        assert!(dns_label("GitHub", 63).unwrap_err().contains("upper-case"));
        assert!(dns_label("git_hub", 63).unwrap_err().contains("`_`"));
        assert!(dns_label("-x", 63).is_err());
        assert!(dns_label("x-", 63).is_err());
        assert!(dns_label("", 63).is_err());
        assert!(
            dns_label(&"a".repeat(56), MAX_SERVER_NAME)
                .unwrap_err()
                .contains("limit is 55")
        );
        assert!(dns_label(&"a".repeat(55), MAX_SERVER_NAME).is_ok());
    }

    #[test]
    fn subdomains_and_hosts() {
        assert!(dns_subdomain("mcp-ca").is_ok());
        assert!(dns_subdomain("a.b.c").is_ok());
        assert!(dns_subdomain("a..b").is_err());
        assert!(hostname("*.tools.example.com").is_ok());
        assert!(hostname("tools.example.com").is_ok());
        assert!(hostname("Tools.example.com").is_err());
    }

    #[test]
    fn env_names() {
        assert!(env_var("GITHUB_TOKEN").is_ok());
        assert!(env_var("_x1").is_ok());
        assert!(env_var("1X").is_err());
        assert!(env_var("MY-VAR").unwrap_err().contains("`-`"));
    }

    #[test]
    fn label_keys_and_values() {
        assert!(qualified_name("app.kubernetes.io/name").is_ok());
        assert!(qualified_name("team").is_ok());
        assert!(qualified_name("team/").is_err());
        assert!(qualified_name("Bad Prefix/x").is_err());
        assert!(user_label_key("team").is_ok());
        assert!(
            user_label_key("app.kubernetes.io/name")
                .unwrap_err()
                .contains("set by mcpctl")
        );
        assert!(user_label_key("mcpctl.io/track").is_err());
        assert!(user_annotation_key("prometheus.io/scrape").is_ok());
        assert!(user_annotation_key("mcpctl.io/config-hash").is_err());
        assert!(label_value("").is_ok());
        assert!(label_value("v1.4.2").is_ok());
        assert!(label_value("a b").is_err());
        assert!(label_value(&"a".repeat(64)).is_err());
    }
}
