//! Container image references, following the grammar of
//! `github.com/distribution/reference`:
//!
//! ```text
//! reference  := name [ ":" tag ] [ "@" digest ]
//! name       := [ domain "/" ] path-component ( "/" path-component )*
//! domain     := host [ ":" port ]
//! path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//! tag        := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
//! ```
//!
//! Only `sha256:` digests are accepted (64 hex digits), the only algorithm
//! registries serve in practice.

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Registry host (and port), when written.
    pub domain: Option<String>,
    /// Repository path without the domain.
    pub path: String,
    pub tag: Option<String>,
    /// `sha256:<64 hex>`.
    pub digest: Option<String>,
}

impl ImageRef {
    /// A short version for the `app.kubernetes.io/version` label: the tag, else
    /// `sha256-` and the first 12 hex digits of the digest, else `latest`.
    /// Always a valid label value.
    pub fn version(&self) -> String {
        let v = match (&self.tag, &self.digest) {
            (Some(tag), _) => tag.clone(),
            (None, Some(d)) => format!("sha256-{}", &d["sha256:".len().."sha256:".len() + 12]),
            (None, None) => "latest".into(),
        };
        // A tag may be up to 128 characters; a label value only 63, ending alphanumeric.
        let mut v: String = v.chars().take(63).collect();
        while v.ends_with(['.', '-', '_']) {
            v.pop();
        }
        v
    }
}

/// Parses an image reference, or says what is wrong with it.
pub fn parse(s: &str) -> Result<ImageRef, String> {
    if s.is_empty() {
        return Err("the image reference is empty".into());
    }
    if s.chars().any(char::is_whitespace) {
        return Err("an image reference cannot contain spaces".into());
    }
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(parse_digest(d)?)),
        None => (s, None),
    };
    // The tag follows the last `:` after the last `/` (a `:` before it is a registry port).
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => {
            let i = last_slash + i;
            (&rest[..i], Some(parse_tag(&rest[i + 1..])?))
        }
        None => (rest, None),
    };
    if name.is_empty() {
        return Err("the image reference has no repository name".into());
    }
    if name.len() > 255 {
        return Err(format!(
            "the repository name is {} characters long; the limit is 255",
            name.len()
        ));
    }
    let (domain, path) = match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
            check_domain(first)?;
            (Some(first.to_string()), rest)
        }
        _ => (None, name),
    };
    for component in path.split('/') {
        check_component(component)?;
    }
    Ok(ImageRef {
        domain,
        path: path.to_string(),
        tag,
        digest,
    })
}

fn parse_digest(d: &str) -> Result<String, String> {
    let Some(hex) = d.strip_prefix("sha256:") else {
        return Err(format!(
            "digest `{d}` must be `sha256:` followed by 64 hex digits"
        ));
    };
    if hex.len() != 64
        || !hex
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    {
        return Err(format!(
            "digest `{d}` must be `sha256:` followed by 64 lower-case hex digits (found {} characters)",
            hex.len()
        ));
    }
    Ok(d.to_string())
}

fn parse_tag(t: &str) -> Result<String, String> {
    if t.is_empty() {
        return Err("the tag after `:` is empty".into());
    }
    let ok_first = t
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let ok_rest = t
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !ok_first || !ok_rest || t.len() > 128 {
        return Err(format!(
            "tag `{t}` is not valid: use up to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`"
        ));
    }
    Ok(t.to_string())
}

fn check_domain(d: &str) -> Result<(), String> {
    let (host, port) = match d.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (d, None),
    };
    if let Some(p) = port
        && (p.is_empty()
            || !p.bytes().all(|c| c.is_ascii_digit())
            || p.parse::<u32>().map_or(true, |n| n == 0 || n > 65535))
    {
        return Err(format!("registry `{d}` has an invalid port `{p}`"));
    }
    let ok = !host.is_empty()
        && host.split('.').all(|part| {
            !part.is_empty()
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        });
    if !ok {
        return Err(format!("registry host `{host}` is not a valid host name"));
    }
    Ok(())
}

fn check_component(c: &str) -> Result<(), String> {
    if c.is_empty() {
        return Err("the repository path has an empty part (`//` or a trailing `/`)".into());
    }
    if c.chars().any(|ch| ch.is_ascii_uppercase()) {
        return Err(format!(
            "repository part `{c}` has upper-case letters; repositories are lower-case"
        ));
    }
    // Alphanumeric runs separated by `.`, `_`, `__` or one or more `-`.
    let bytes = c.as_bytes();
    let is_alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bad = || {
        Err(format!(
            "repository part `{c}` is not valid: use lower-case letters and digits separated by `.`, `_`, `__` or `-`"
        ))
    };
    if !is_alnum(bytes[0]) || !is_alnum(bytes[bytes.len() - 1]) {
        return bad();
    }
    let mut i = 0;
    while i < bytes.len() {
        if is_alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !is_alnum(bytes[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|b| b == b'-');
        if !ok {
            return bad();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn parses_common_references() {
        let r = parse("ghcr.io/acme/github-mcp:1.4.2").unwrap();
        assert_eq!(r.domain.as_deref(), Some("ghcr.io"));
        assert_eq!(r.path, "acme/github-mcp");
        assert_eq!(r.tag.as_deref(), Some("1.4.2"));
        assert_eq!(r.version(), "1.4.2");

        let r = parse("localhost:5000/mcp/fs:v2").unwrap();
        assert_eq!(r.domain.as_deref(), Some("localhost:5000"));
        assert_eq!(r.tag.as_deref(), Some("v2"));

        let r = parse("nginx").unwrap();
        assert_eq!((r.domain, r.tag, r.digest), (None, None, None));

        let r = parse(&format!("ghcr.io/acme/x@{DIGEST}")).unwrap();
        assert_eq!(r.digest.as_deref(), Some(DIGEST));
        assert_eq!(r.version(), "sha256-0123456789ab");

        let r = parse(&format!("ghcr.io/acme/x:1.0@{DIGEST}")).unwrap();
        assert_eq!(r.version(), "1.0");
        assert!(parse("registry.example.com:8443/a__b/c-d/e.f:1").is_ok());
    }

    #[test]
    fn rejects_malformed_references() {
        assert!(parse("").is_err());
        assert!(
            parse("ghcr.io/Acme/x:1")
                .unwrap_err()
                .contains("upper-case")
        );
        assert!(parse("ghcr.io/acme/x:").unwrap_err().contains("tag"));
        assert!(parse("ghcr.io/acme/x:-1").unwrap_err().contains("tag"));
        assert!(
            parse("ghcr.io/acme/x@sha256:abc")
                .unwrap_err()
                .contains("64")
        );
        assert!(
            parse("ghcr.io/acme/x@md5:abc")
                .unwrap_err()
                .contains("sha256")
        );
        assert!(parse("ghcr.io//x:1").unwrap_err().contains("empty part"));
        assert!(parse("acme/x y:1").is_err());
        assert!(parse("ghcr.io:99999/x:1").unwrap_err().contains("port"));
        assert!(parse("acme/-x:1").is_err());
        assert!(parse("acme/x..y:1").is_err());
    }

    #[test]
    fn version_is_always_a_label_value() {
        let long = format!("x:{}", "a".repeat(100));
        let v = parse(&long).unwrap().version();
        assert_eq!(v.len(), 63);
        assert!(crate::fleet::names::label_value(&v).is_ok());
        assert_eq!(parse("x").unwrap().version(), "latest");
    }
}
