//! Who is operating: a CI job (from the CI system's environment) or
//! `user@host`. Written into lock holders and journal records.

/// Describes the operator from an environment lookup (testable without
/// touching the process environment).
pub fn who_from(env: &dyn Fn(&str) -> Option<String>, host: Option<String>) -> String {
    let get = |k: &str| env(k).filter(|v| !v.is_empty());
    if get("GITHUB_ACTIONS").is_some() {
        let repo = get("GITHUB_REPOSITORY").unwrap_or_default();
        let run = get("GITHUB_RUN_ID").unwrap_or_default();
        let actor = get("GITHUB_ACTOR")
            .map(|a| format!(" ({a})"))
            .unwrap_or_default();
        return format!("github-actions:{repo}/runs/{run}{actor}");
    }
    if get("GITLAB_CI").is_some() {
        let project = get("CI_PROJECT_PATH").unwrap_or_default();
        let job = get("CI_JOB_ID").unwrap_or_default();
        let user = get("GITLAB_USER_LOGIN")
            .map(|a| format!(" ({a})"))
            .unwrap_or_default();
        return format!("gitlab-ci:{project}/jobs/{job}{user}");
    }
    if let Some(url) = get("BUILDKITE_BUILD_URL") {
        return format!("buildkite:{url}");
    }
    if let Some(url) = get("CIRCLE_BUILD_URL") {
        return format!("circleci:{url}");
    }
    if get("JENKINS_URL").is_some()
        && let Some(tag) = get("BUILD_TAG")
    {
        return format!("jenkins:{tag}");
    }
    if let Some(id) = get("TEKTON_PIPELINE_RUN").or_else(|| get("CI_JOB_NAME")) {
        return format!("ci:{id}");
    }
    let user = get("USER")
        .or_else(|| get("LOGNAME"))
        .unwrap_or_else(|| "unknown".to_string());
    let host = host
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_string());
    format!("{user}@{host}")
}

fn hostname() -> Option<String> {
    if let Ok(h) = std::env::var("HOSTNAME")
        && !h.is_empty()
    {
        return Some(h);
    }
    for p in ["/proc/sys/kernel/hostname", "/etc/hostname"] {
        if let Ok(s) = std::fs::read_to_string(p) {
            let s = s.trim().to_string();
            if !s.is_empty() {
                return Some(s);
            }
        }
    }
    None
}

/// The operator of this process.
pub fn who() -> String {
    who_from(&|k| std::env::var(k).ok(), hostname())
}

/// A lock holder identity: the operator, the process id and a random tag,
/// the same for the whole process. The tag tells apart processes that share
/// the rest (two containers of one CI run, both pid 7): a Lease whose holder
/// is this identity is this process's, and no one else's.
pub fn holder_identity() -> String {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        format!(
            "{}/{}-{:04x}",
            who(),
            std::process::id(),
            rand::random::<u16>()
        )
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn holder_identity_is_per_process_and_tagged() {
        let id = holder_identity();
        assert_eq!(id, holder_identity(), "the same for the whole process");
        let (who_part, tail) = id.rsplit_once('/').unwrap();
        assert_eq!(who_part, who());
        let (pid, tag) = tail.split_once('-').unwrap();
        assert_eq!(pid, std::process::id().to_string());
        assert!(
            tag.len() == 4 && tag.chars().all(|c| c.is_ascii_hexdigit()),
            "{id}"
        );
    }

    #[test]
    fn user_at_host_outside_ci() {
        assert_eq!(
            who_from(&with(&[("USER", "ana")]), Some("lap".into())),
            "ana@lap"
        );
        assert_eq!(who_from(&with(&[]), None), "unknown@unknown-host");
    }

    #[test]
    fn ci_jobs_are_named() {
        let gh = with(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REPOSITORY", "acme/tools"),
            ("GITHUB_RUN_ID", "42"),
            ("GITHUB_ACTOR", "bot"),
            ("USER", "runner"),
        ]);
        assert_eq!(
            who_from(&gh, Some("h".into())),
            "github-actions:acme/tools/runs/42 (bot)"
        );
        let gl = with(&[
            ("GITLAB_CI", "true"),
            ("CI_PROJECT_PATH", "g/p"),
            ("CI_JOB_ID", "7"),
        ]);
        assert_eq!(who_from(&gl, None), "gitlab-ci:g/p/jobs/7");
        let j = with(&[("JENKINS_URL", "http://j"), ("BUILD_TAG", "jenkins-x-3")]);
        assert_eq!(who_from(&j, None), "jenkins:jenkins-x-3");
    }
}
