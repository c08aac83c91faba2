//! Bad fleet files through the real binary: each must exit 2 and name the file,
//! line, column, key path and what is wrong. Fixtures live in
//! `tests/fixtures/fleets/`. Also `validate` output and `init`.

use std::process::Output;

use crate::support::*;

const FIXTURES: &str = "tests/fixtures/fleets";

fn validate(fixture: &str) -> Output {
    mcpctl(&["validate", "-f", &format!("{FIXTURES}/{fixture}")])
}

/// Asserts exit code 2, nothing on stdout, and exactly `expected` on stderr
/// (with the fixture directory written as `F/`).
fn assert_invalid(out: &Output, expected: &str) {
    let err = stderr(out).replace(&format!("{FIXTURES}/"), "F/");
    assert_eq!(out.status.code(), Some(2), "stderr:\n{err}");
    assert_eq!(
        stdout(out),
        "",
        "nothing goes to stdout for an invalid file"
    );
    assert_eq!(err, expected);
}

#[test]
fn unknown_key_suggests_the_closest_or_lists_valid_keys() {
    assert_invalid(
        &validate("unknown_key.yaml"),
        "error: F/unknown_key.yaml:6:5: servers[0].replica: unknown key `replica` in `servers[0]`\n  \
         hint: did you mean `replicas`?\n\
         error: F/unknown_key.yaml:9:5: servers[1].colour: unknown key `colour` in `servers[1]`\n  \
         hint: valid keys here: `name`, `image`, `replicas`, `port`, `path`, `router`, `strategy`, \
         `canary`, `blueGreen`, `prometheus`, `tls`, `resources`, `autoscaling`, `drainSeconds`, \
         `ingress`, `allowFromNamespaces`, `labels`, `podAnnotations`, `env`, `secretEnv`\n",
    );
}

#[test]
fn wrong_type_says_expected_and_found() {
    assert_invalid(
        &validate("wrong_type.yaml"),
        "error: F/wrong_type.yaml:4:13: defaults.replicas: expected a whole number, found string \"three\"\n",
    );
}

#[test]
fn bad_duration_suggests_the_short_form() {
    assert_invalid(
        &validate("bad_duration.yaml"),
        "error: F/bad_duration.yaml:10:21: servers[0].canary.stepDuration: invalid duration: \
         `5 minutes` is not in the short form; write `5m`\n",
    );
}

#[test]
fn duplicate_names_point_at_both() {
    assert_invalid(
        &validate("duplicate_names.yaml"),
        "error: F/duplicate_names.yaml:8:11: servers[2].name: duplicate server name `github`: \
         servers[0].name at line 4, column 11 has the same name\n  \
         hint: server names must be unique within a fleet\n",
    );
}

#[test]
fn canary_steps_must_end_at_100() {
    assert_invalid(
        &validate("steps_not_100.yaml"),
        "error: F/steps_not_100.yaml:7:25: defaults.canary.steps[3]: the last canary step must be 100, found 90\n  \
         hint: end the list with 100 so that the new version takes all traffic\n",
    );
}

#[test]
fn bad_images_are_errors() {
    let hint = "  hint: write it like `ghcr.io/acme/github-mcp:1.4.2` or `registry/repo@sha256:<64 hex>`\n";
    assert_invalid(
        &validate("bad_image.yaml"),
        &format!(
            "error: F/bad_image.yaml:5:12: servers[0].image: invalid image reference \
             `ghcr.io/Acme/github-mcp:1.4.2`: repository part `Acme` has upper-case letters; \
             repositories are lower-case\n{hint}\
             error: F/bad_image.yaml:7:12: servers[1].image: invalid image reference \
             `ghcr.io/acme/pg-mcp@sha256:1234`: digest `sha256:1234` must be `sha256:` followed by \
             64 lower-case hex digits (found 4 characters)\n{hint}"
        ),
    );
}

#[test]
fn unpinned_image_is_a_warning_not_an_error() {
    let out = validate("latest_image.yaml");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).replace(&format!("{FIXTURES}/"), "F/"),
        "warning: F/latest_image.yaml:5:12: servers[0].image: image `ghcr.io/acme/github-mcp:latest` \
         uses the `latest` tag: what runs can change without a deploy\n  \
         hint: pin a version tag (`:1.4.2`) or a digest (`@sha256:…`)\n"
    );
    assert_eq!(
        stdout(&out),
        format!("{FIXTURES}/latest_image.yaml: fleet acme-tools, 1 server, ok (1 warning)\n")
    );
}

#[test]
fn yaml_syntax_error_has_line_and_column() {
    assert_invalid(
        &validate("syntax_error.yaml"),
        "error: F/syntax_error.yaml:7:9: YAML syntax error: while parsing a flow mapping, \
         did not find expected ',' or '}'\n  \
         hint: a `{` opened earlier is not closed with `}`, or a `,` is missing between its entries\n",
    );
}

#[test]
fn empty_file_points_at_init() {
    for fixture in ["empty.yaml", "comments_only.yaml"] {
        assert_invalid(
            &validate(fixture),
            &format!(
                "error: F/{fixture}:1:1: the fleet file is empty\n  \
                 hint: run `mcpctl init` to write a commented example, or see examples/fleet.yaml\n"
            ),
        );
    }
}

#[test]
fn missing_file_says_how_to_name_one() {
    let dir = tempfile::tempdir().unwrap();
    // The default file name, in a directory without it.
    let out = mcpctl_in(dir.path(), &["validate"]);
    assert_invalid(
        &out,
        "error: no fleet file at ./mcpctl.yaml; pass -f FILE, set MCPCTL_FLEET, or run `mcpctl init`\n",
    );
    let out = mcpctl(&["render", "-f", "no/such/fleet.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no fleet file at no/such/fleet.yaml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unreadable_files_exit_2() {
    assert_invalid(
        &validate("not_utf8.yaml"),
        "error: cannot read the fleet file F/not_utf8.yaml: it is not UTF-8 text\n",
    );
    assert_invalid(
        &mcpctl(&["validate", "-f", FIXTURES]),
        &format!("error: cannot read the fleet file {FIXTURES}: it is a directory; pass the YAML file with -f FILE\n")
            .replace(&format!("{FIXTURES}/"), "F/"),
    );
}

#[test]
fn bad_dns_name_is_explained() {
    assert_invalid(
        &validate("bad_dns_name.yaml"),
        "error: F/bad_dns_name.yaml:4:11: servers[0].name: server name `GitHub_MCP` contains an \
         upper-case letter; use only lower-case letters, digits and `-` (a DNS-1123 label)\n",
    );
}

#[test]
fn error_rate_out_of_range() {
    assert_invalid(
        &validate("error_rate.yaml"),
        "error: F/error_rate.yaml:8:21: defaults.canary.analysis.maxErrorRate: must be between 0 and 1, found 5\n  \
         hint: it is a fraction of requests: write 0.01 for 1%\n",
    );
}

#[test]
fn several_errors_are_reported_at_once_in_file_order() {
    assert_invalid(
        &validate("many_errors.yaml"),
        "error: F/many_errors.yaml:4:13: defaults.replicas: expected a whole number, found string \"three\"\n\
         error: F/many_errors.yaml:5:3: defaults.stratgy: unknown key `stratgy` in `defaults`\n  \
         hint: did you mean `strategy`?\n\
         error: F/many_errors.yaml:6:9: defaults.port: must be between 1 and 65535, found 70000\n\
         error: F/many_errors.yaml:11:23: servers[0].canary.steps[2]: canary steps must strictly increase: 50 follows 50\n\
         error: F/many_errors.yaml:12:21: servers[0].canary.stepDuration: invalid duration: `90` has no unit; \
         write `90s` for seconds or `90m` for minutes\n\
         error: F/many_errors.yaml:13:11: servers[1].name: duplicate server name `github`: \
         servers[0].name at line 8, column 11 has the same name\n  \
         hint: server names must be unique within a fleet\n\
         error: F/many_errors.yaml:14:12: servers[1].image: invalid image reference \
         `ghcr.io/acme/github-mcp:`: the tag after `:` is empty\n  \
         hint: write it like `ghcr.io/acme/github-mcp:1.4.2` or `registry/repo@sha256:<64 hex>`\n",
    );
}

#[test]
fn other_commands_report_fleet_errors_the_same_way() {
    for cmd in ["render", "lint"] {
        let out = mcpctl(&[cmd, "-f", &format!("{FIXTURES}/wrong_type.yaml")]);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {}", stderr(&out));
        assert!(
            stderr(&out)
                .contains("wrong_type.yaml:4:13: defaults.replicas: expected a whole number"),
            "{cmd}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn validate_accepts_the_example_fleet() {
    let out = mcpctl(&["validate", "-f", "examples/fleet.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "examples/fleet.yaml: fleet acme-tools, 5 servers, ok\n"
    );
    assert_eq!(stderr(&out), "", "the example has no warnings");
}

#[test]
fn validate_json_reports_errors_and_exits_2() {
    let out = mcpctl(&[
        "validate",
        "-o",
        "json",
        "-f",
        &format!("{FIXTURES}/many_errors.yaml"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON on stdout");
    assert_eq!(v["valid"], false);
    assert_eq!(v["servers"], 0);
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 7);
    assert_eq!(errors[1]["line"], 5);
    assert_eq!(errors[1]["column"], 3);
    assert_eq!(errors[1]["path"], "defaults.stratgy");
    assert_eq!(errors[1]["message"], "unknown key `stratgy` in `defaults`");
    assert_eq!(errors[1]["hint"], "did you mean `strategy`?");
    assert_eq!(errors[1]["severity"], "error");
    assert_eq!(errors[1]["file"], format!("{FIXTURES}/many_errors.yaml"));
    assert_eq!(v["warnings"], serde_json::json!([]));
}

#[test]
fn validate_json_for_a_valid_fleet_with_a_warning() {
    let out = mcpctl(&[
        "validate",
        "-o",
        "json",
        "-f",
        &format!("{FIXTURES}/latest_image.yaml"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["fleet"], "acme-tools");
    assert_eq!(v["servers"], 1);
    assert_eq!(v["errors"], serde_json::json!([]));
    assert_eq!(v["warnings"][0]["severity"], "warning");
    assert_eq!(v["warnings"][0]["path"], "servers[0].image");
    assert_eq!(v["warnings"][0]["line"], 5);
}

#[test]
fn validate_json_for_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = mcpctl_in(dir.path(), &["validate", "-o", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["errors"][0]["line"], serde_json::Value::Null);
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("no fleet file at ./mcpctl.yaml")
    );
}

#[test]
fn init_writes_a_fleet_that_validates_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = mcpctl_in(dir.path(), &["init"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("wrote mcpctl.yaml"),
        "{}",
        stderr(&out)
    );
    let written = std::fs::read_to_string(dir.path().join("mcpctl.yaml")).unwrap();
    assert!(
        written.starts_with(
            "# yaml-language-server: $schema=mcpctl.schema.json\n# mcpctl fleet file."
        )
    );

    let out = mcpctl_in(dir.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "mcpctl.yaml: fleet my-tools, 2 servers, ok\n");
    assert_eq!(stderr(&out), "");

    std::fs::write(dir.path().join("mcpctl.yaml"), "fleet: mine\n").unwrap();
    let out = mcpctl_in(dir.path(), &["init"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: mcpctl.yaml already exists; pass --force to overwrite it\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mcpctl.yaml")).unwrap(),
        "fleet: mine\n"
    );

    let out = mcpctl_in(dir.path(), &["init", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mcpctl.yaml")).unwrap(),
        written
    );
}

#[test]
fn init_honours_the_fleet_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = mcpctl_in(dir.path(), &["init", "-f", "fleets/prod.yaml"]);
    // The parent directory does not exist: a clear runtime error, nothing written.
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot write fleets/prod.yaml"),
        "{}",
        stderr(&out)
    );
    std::fs::create_dir(dir.path().join("fleets")).unwrap();
    let out = mcpctl_in(dir.path(), &["init", "-f", "fleets/prod.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = mcpctl_in(dir.path(), &["validate", "-f", "fleets/prod.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
