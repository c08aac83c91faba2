//! The control plane's child processes, and what makes sure none outlives the test binary.
//!
//! Two mechanisms, because a test binary can end in ways no destructor sees (a static is never
//! dropped, a test run can be killed):
//! - every child is started with `PR_SET_PDEATHSIG = SIGKILL`, so the kernel kills it when the
//!   thread that started it ends. All children are started from one thread that lives as long as
//!   the process (see `lib.rs`), so "the thread ends" means "the test binary is gone";
//! - a reaper shell, in its own session, holds the read end of a pipe whose write end only the
//!   test binary has. When the test binary is gone the pipe closes, and the reaper kills what is
//!   listed in `pids` (should anything have escaped), waits for it and removes the run directory
//!   (unless `MCPCTL_E2E_KEEP` is set, for reading the logs afterwards).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

const REAPER: &str = r#"
cat >/dev/null
dir="$1"
pids=$(cat "$dir/pids" 2>/dev/null)
for p in $pids; do kill -9 "$p" 2>/dev/null; done
for p in $pids; do
    n=0
    while [ -e "/proc/$p" ] && [ "$(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null)" != Z ] && [ $n -lt 300 ]; do
        sleep 0.1; n=$((n+1))
    done
done
[ -n "${MCPCTL_E2E_KEEP:-}" ] || rm -rf "$dir"
"#;

/// The run directory's guardian: keeps the reaper's pipe open for the life of the process.
pub struct Reaper {
    _pipe: ChildStdin,
    pids: PathBuf,
}

impl Reaper {
    pub fn start(dir: &Path) -> Result<Reaper, String> {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(REAPER)
            .arg("mcpctl-e2e-reaper")
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start the cleanup shell (sh): {e}"))?;
        let pipe = child.stdin.take().expect("piped stdin");
        // The reaper is waited for by nobody on purpose: it must outlive this process.
        std::mem::forget(child);
        Ok(Reaper {
            _pipe: pipe,
            pids: dir.join("pids"),
        })
    }

    fn record(&self, pid: u32) -> Result<(), String> {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.pids)
            .map_err(|e| format!("cannot write {}: {e}", self.pids.display()))?;
        writeln!(f, "{pid}").map_err(|e| format!("cannot write {}: {e}", self.pids.display()))
    }
}

/// One running component: its process and the file its output goes to.
pub struct Component {
    pub name: &'static str,
    pub child: Child,
    pub log: PathBuf,
}

impl Component {
    /// Starts `program` with `args`, output to `<dir>/<name>.log`, killed when this thread ends.
    pub fn start(
        reaper: &Reaper,
        dir: &Path,
        name: &'static str,
        program: &Path,
        args: &[String],
    ) -> Result<Component, String> {
        let log = dir.join(format!("{name}.log"));
        let out =
            File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("cannot reopen {}: {e}", log.display()))?;
        let parent = std::process::id() as libc::pid_t;
        let mut cmd = Command::new(program);
        cmd.args(args).stdin(Stdio::null()).stdout(out).stderr(err);
        // SAFETY: prctl and getppid are async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The test binary died between fork and prctl: do not start orphaned.
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {name} ({}): {e}", program.display()))?;
        reaper.record(child.id())?;
        Ok(Component { name, child, log })
    }

    /// `Err` with the end of its log when the process has exited.
    pub fn check_running(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!(
                "{} exited ({status}) while starting; the end of {}:\n{}",
                self.name,
                self.log.display(),
                tail(&self.log, 30)
            )),
            Err(e) => Err(format!("cannot check on {}: {e}", self.name)),
        }
    }
}

/// The last `lines` lines of a log file.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A loopback port nobody listens on right now. Another process may take it before the
/// component binds it; starting a component retries with new ports when that happens.
pub fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free loopback port: {e}"))
}

/// Polls `ready` every 100 ms until it is true, the component exits, or `deadline` passes.
pub fn wait_until(
    what: &str,
    component: &mut Component,
    deadline: Duration,
    mut ready: impl FnMut() -> bool,
) -> Result<(), String> {
    let start = Instant::now();
    loop {
        if ready() {
            return Ok(());
        }
        component.check_running()?;
        if start.elapsed() > deadline {
            return Err(format!(
                "{what}: not ready after {deadline:?}; the end of {}:\n{}",
                component.log.display(),
                tail(&component.log, 30)
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
