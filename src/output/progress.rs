//! Progress of waits on stderr: spinners on a terminal, plain lines otherwise.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::Duration;

use crate::cluster::wait::WaitProgress;

/// Progress on stderr: spinners on a terminal, plain lines otherwise.
pub struct Progress {
    quiet: bool,
    bars: Option<(
        indicatif::MultiProgress,
        BTreeMap<String, indicatif::ProgressBar>,
    )>,
    last: BTreeMap<String, String>,
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        let bars = (!quiet && std::io::stderr().is_terminal())
            .then(|| (indicatif::MultiProgress::new(), BTreeMap::new()));
        Progress {
            quiet,
            bars,
            last: BTreeMap::new(),
        }
    }
}

impl WaitProgress for Progress {
    /// Shows `msg` for `name` if it changed.
    fn update(&mut self, name: &str, msg: &str, done: bool) {
        if self.quiet || self.last.get(name).map(String::as_str) == Some(msg) {
            return;
        }
        self.last.insert(name.to_string(), msg.to_string());
        match &mut self.bars {
            Some((multi, bars)) => {
                let bar = bars.entry(name.to_string()).or_insert_with(|| {
                    let b = multi.add(indicatif::ProgressBar::new_spinner());
                    b.enable_steady_tick(Duration::from_millis(120));
                    b
                });
                if done {
                    bar.finish_with_message(msg.to_string());
                } else {
                    bar.set_message(msg.to_string());
                }
            }
            None => eprintln!("{msg}"),
        }
    }

    fn finish(&mut self) {
        if let Some((_, bars)) = &self.bars {
            for b in bars.values() {
                if !b.is_finished() {
                    b.abandon();
                }
            }
        }
    }
}

/// A canary hold on a terminal: `hold at 25% [=====>     ] 1m10s left`,
/// drawn from the time elapsed (no update needed between samples).
pub fn hold_bar(weight: u32, seconds: u64) -> indicatif::ProgressBar {
    let total = Duration::from_secs(seconds.max(1));
    let bar = move |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
        let done = (s.elapsed().as_secs_f64() / total.as_secs_f64()).min(1.0);
        let n = (done * 30.0) as usize;
        let _ = write!(w, "{}{}", "=".repeat(n), " ".repeat(30 - n));
    };
    let left = move |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
        let left = total.saturating_sub(s.elapsed());
        let _ = write!(
            w,
            "{}",
            crate::fleet::duration::format(Duration::from_secs(left.as_secs()))
        );
    };
    let style = indicatif::ProgressStyle::with_template(
        "  {spinner} hold at {msg} [{holdbar}] {left} left",
    )
    .expect("a valid template")
    .with_key("holdbar", bar)
    .with_key("left", left);
    let b = indicatif::ProgressBar::new_spinner()
        .with_style(style)
        .with_message(format!("{weight}%"));
    b.enable_steady_tick(Duration::from_millis(200));
    b
}
