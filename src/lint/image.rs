//! Container image references: `[registry[:port]/]repository[:tag][@digest]`.

/// The parts of an image reference that pinning cares about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// Everything before the tag and digest.
    pub repository: &'a str,
    pub tag: Option<&'a str>,
    /// `sha256:…`, without the `@`.
    pub digest: Option<&'a str>,
}

impl<'a> ImageRef<'a> {
    pub fn parse(image: &'a str) -> Self {
        let (name, digest) = match image.split_once('@') {
            Some((n, d)) => (n, Some(d)),
            None => (image, None),
        };
        // A colon after the last slash is a tag; before it, a registry port.
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match name[last_slash..].rfind(':') {
            Some(i) => (&name[..last_slash + i], Some(&name[last_slash + i + 1..])),
            None => (name, None),
        };
        ImageRef {
            repository,
            tag: tag.filter(|t| !t.is_empty()),
            digest: digest.filter(|d| !d.is_empty()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tags_digests_and_ports() {
        let r = ImageRef::parse("ghcr.io/acme/github-mcp:1.4.2");
        assert_eq!(
            (r.repository, r.tag, r.digest),
            ("ghcr.io/acme/github-mcp", Some("1.4.2"), None)
        );
        let r = ImageRef::parse("registry:5000/acme/pg");
        assert_eq!(
            (r.repository, r.tag, r.digest),
            ("registry:5000/acme/pg", None, None)
        );
        let r = ImageRef::parse("registry:5000/pg:0.9@sha256:abc");
        assert_eq!(
            (r.repository, r.tag, r.digest),
            ("registry:5000/pg", Some("0.9"), Some("sha256:abc"))
        );
        let r = ImageRef::parse("pg@sha256:abc");
        assert_eq!(
            (r.repository, r.tag, r.digest),
            ("pg", None, Some("sha256:abc"))
        );
    }
}
