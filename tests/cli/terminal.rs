//! Output at a terminal and elsewhere: spinners and colours only on a real
//! pseudo-terminal, never with `NO_COLOR` or `--no-color` (colours) or when
//! stderr is a pipe (any escape code); `-q` leaves results and errors only.

use std::io::Read;
use std::process::{Command, Stdio};

use test_apiserver::Behaviour;

use crate::cluster_support::{DASHBOARD_LINE, Env, NS, out};

/// Runs `cmd` with stdin, stdout and stderr on a new pseudo-terminal of 120
/// columns; returns the exit code and everything it wrote there.
pub fn run_in_pty(cmd: Command) -> (Option<i32>, String) {
    run_in_pty_sized(cmd, 120)
}

/// [`run_in_pty`] on a terminal `cols` columns wide.
pub fn run_in_pty_sized(mut cmd: Command, cols: u16) -> (Option<i32>, String) {
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)
        .expect("open a pseudo-terminal");
    grantpt(&master).expect("grantpt");
    unlockpt(&master).expect("unlockpt");
    rustix::termios::tcsetwinsize(
        &master,
        rustix::termios::Winsize {
            ws_row: 40,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        },
    )
    .expect("set the terminal size");
    let name = ptsname(&master, Vec::new()).expect("ptsname");
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(name.to_str().expect("a UTF-8 path"))
        .expect("open the terminal's other end");
    cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave));
    let mut child = cmd.spawn().expect("start mcpctl");
    // The command holds the parent's copies of the terminal: close them, so
    // reading ends (EIO) once the child has exited.
    drop(cmd);
    let mut master = std::fs::File::from(master);
    let mut output = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match master.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => output.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // Linux answers EIO when no process holds the terminal any more.
            Err(_) => break,
        }
    }
    let status = child.wait().expect("wait for mcpctl");
    (status.code(), String::from_utf8_lossy(&output).into_owned())
}

/// An SGR (colour) escape sequence: `ESC [ digits;… m`.
fn has_colour(text: &str) -> bool {
    text.split('\x1b').skip(1).any(|rest| {
        rest.strip_prefix('[').is_some_and(|r| {
            let end = r.find(|c: char| !(c.is_ascii_digit() || c == ';'));
            end.is_some_and(|i| r[i..].starts_with('m'))
        })
    })
}

#[test]
fn colours_only_on_a_terminal_without_no_color_or_no_color_flag() {
    let env = Env::start(&[]);
    let colour_run = |extra: &[&str], no_color_env: bool| {
        let mut args = vec!["status", "-v"];
        args.extend_from_slice(extra);
        let mut cmd = env.command(&args);
        cmd.env_remove("NO_COLOR");
        if no_color_env {
            cmd.env("NO_COLOR", "1");
        }
        let (code, text) = run_in_pty(cmd);
        assert_eq!(code, Some(0), "{text}");
        // `-v` logs the connection at info level, its level coloured on a terminal.
        assert!(text.contains("connected to"), "{text}");
        text
    };
    let plain = colour_run(&[], false);
    assert!(has_colour(&plain), "no colour on a terminal: {plain:?}");
    let text = colour_run(&[], true);
    assert!(!has_colour(&text), "colour despite NO_COLOR: {text:?}");
    let text = colour_run(&["--no-color"], false);
    assert!(!has_colour(&text), "colour despite --no-color: {text:?}");

    // Not a terminal: no escape code at all, NO_COLOR or not.
    let mut cmd = env.command(&["status", "-v"]);
    cmd.env_remove("NO_COLOR");
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(all.contains("connected to"), "{all}");
    assert!(!all.contains('\x1b'), "{all:?}");
}

#[test]
fn progress_spinners_only_on_a_terminal() {
    let env = Env::start(&[]);
    // Slow enough that the wait sees the rollout unfinished at least once.
    env.srv.set_deployment_behaviour(
        NS,
        "github",
        Behaviour::ReadyAfter(std::time::Duration::from_millis(1500)),
    );
    let (code, text) = run_in_pty(env.command(&["apply", "--wait"]));
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("successfully rolled out"), "{text}");
    // indicatif redraws its lines in place: it clears them with `ESC [2K`.
    assert!(text.contains("\x1b[2K"), "no spinner drawn: {text:?}");
    assert!(!has_colour(&text), "NO_COLOR is set by Env: {text:?}");

    // The same rollout with stderr a pipe: plain lines, no escape codes.
    env.write_fleet(&crate::cluster_support::fleet_yaml(
        "ghcr.io/acme/github-mcp:1.5.0",
        2,
    ));
    let o = env.run(&["apply", "--wait"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.lines()
            .any(|l| l.starts_with("Waiting for deployment \"github\" rollout to finish")),
        "{}",
        out(&o)
    );
    assert!(err.contains("successfully rolled out"), "{}", out(&o));
    assert!(!err.contains('\x1b') && !err.contains('\r'), "{err:?}");
}

#[test]
fn quiet_prints_results_and_errors_only() {
    let env = Env::start(&[]);
    let o = env.run(&["apply", "--wait", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("namespace/mcp created\ngithub: 8 created\n{DASHBOARD_LINE} created\n")
    );
    assert_eq!(String::from_utf8_lossy(&o.stderr), "", "{}", out(&o));

    // A warning (an unpinned image) shows without -q, not with it.
    env.write_fleet(&crate::cluster_support::fleet_yaml(
        "ghcr.io/acme/github-mcp:latest",
        2,
    ));
    let o = env.run(&["validate"]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("latest"),
        "{}",
        out(&o)
    );
    let o = env.run(&["validate", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("ok"),
        "{}",
        out(&o)
    );
    assert_eq!(String::from_utf8_lossy(&o.stderr), "", "{}", out(&o));

    // An error is printed whatever -q says.
    let o = env.run(&["status", "nosuch", "-q"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no server named `nosuch`"),
        "{}",
        out(&o)
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout), "");
}

/// The text without escape sequences (CSI `ESC [ … letter`).
fn plain(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if d.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[test]
fn tables_fit_the_terminal_and_stay_whole_through_a_pipe() {
    let env = Env::start(&[]);
    let image = "ghcr.io/acme-corporation/a-rather-long-repository-name/github-mcp-server:1.4.2-build.12345";
    env.write_fleet(&crate::cluster_support::fleet_yaml(image, 2));
    let o = env.run(&["apply"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let widest = |t: &str| {
        t.lines()
            .map(|l| l.trim_end().chars().count())
            .max()
            .unwrap_or(0)
    };
    let piped = env.run(&["status"]);
    assert_eq!(piped.status.code(), Some(0), "{}", out(&piped));
    let piped = String::from_utf8_lossy(&piped.stdout).into_owned();
    assert!(
        widest(&piped) > 70,
        "through a pipe the row stays whole: {piped}"
    );
    let (code, screen) = run_in_pty_sized(env.command(&["status"]), 70);
    assert_eq!(code, Some(0), "{screen}");
    let screen = plain(&screen.replace('\r', ""));
    assert!(screen.contains("SERVER"), "{screen}");
    assert!(widest(&screen) <= 70, "wrapped to 70 columns: {screen}");
}
