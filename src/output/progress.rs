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
