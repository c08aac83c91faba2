//! What a render depends on besides the fleet: the Kubernetes version the
//! objects are for, and the rollout state of each server (which colour is
//! active, the canary weight, the image of each track).

use std::collections::BTreeMap;
use std::fmt;

use crate::error::{Error, Result};

/// Oldest Kubernetes version mcpctl renders for (autoscaling/v2 is GA from 1.23).
pub const MIN_KUBE_MINOR: u32 = 23;

/// A Kubernetes `major.minor` version, such as `1.28`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KubeVersion {
    pub major: u32,
    pub minor: u32,
}

impl KubeVersion {
    /// Parses `1.28`, `v1.28`, `1.28.7` or `v1.28.7-gke.100` (the patch and any
    /// suffix are ignored: API shapes only change with the minor version).
    pub fn parse(text: &str) -> Result<KubeVersion> {
        let bad = || {
            Error::Usage(format!(
                "`{text}` is not a Kubernetes version; write it like `1.28` or `v1.28.7`"
            ))
        };
        let t = text.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        let mut parts = t.splitn(3, '.');
        let major: u32 = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
        let minor_text = parts.next().ok_or_else(bad)?;
        // Accept a provider suffix on the minor too (`1.28+`, as EKS reports it).
        let minor_digits: String = minor_text
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        let minor: u32 = minor_digits.parse().map_err(|_| bad())?;
        if let Some(patch) = parts.next()
            && !patch.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(bad());
        }
        if major != 1 || minor < MIN_KUBE_MINOR {
            return Err(Error::Usage(format!(
                "Kubernetes {major}.{minor} is not supported; mcpctl renders for 1.{MIN_KUBE_MINOR} or newer"
            )));
        }
        Ok(KubeVersion { major, minor })
    }

    /// `lifecycle.preStop.sleep` (PodLifecycleSleepAction) is on by default from 1.30.
    pub fn has_sleep_action(&self) -> bool {
        self.minor >= 30
    }
}

impl Default for KubeVersion {
    /// The version the `k8s-openapi` types are built for (feature `v1_33`).
    fn default() -> Self {
        KubeVersion {
            major: 1,
            minor: 33,
        }
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The two colours of a blue-green server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Colour {
    #[default]
    Blue,
    Green,
}

impl Colour {
    pub fn other(self) -> Colour {
        match self {
            Colour::Blue => Colour::Green,
            Colour::Green => Colour::Blue,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Colour::Blue => "blue",
            Colour::Green => "green",
        }
    }
}

/// One Deployment of a server: `Stable` is the only one of a rolling server
/// and the stable track of a canary server; `Canary` is the canary track;
/// `Blue` and `Green` are the colours of a blue-green server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Track {
    Stable,
    Canary,
    Blue,
    Green,
}

impl From<Colour> for Track {
    fn from(c: Colour) -> Track {
        match c {
            Colour::Blue => Track::Blue,
            Colour::Green => Track::Green,
        }
    }
}

/// Image and replica count of one Deployment, when they differ from what the
/// fleet file says (a rollout in progress).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrackState {
    pub image: Option<String>,
    pub replicas: Option<u32>,
}

/// The rollout state of one server. The default is a fresh install: blue
/// active and green at 0 replicas; canary weight 0 and the canary track at 0
/// replicas; every track running the fleet file's image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RolloutState {
    /// Blue-green: the colour the active Service (and the mesh) sends traffic to.
    pub active_colour: Colour,
    /// Canary: percent of traffic (0..=100) sent to the canary track.
    pub canary_weight: u32,
    /// Per-Deployment overrides of image and replicas.
    pub tracks: BTreeMap<Track, TrackState>,
}

impl RolloutState {
    pub fn image(&self, track: Track) -> Option<&str> {
        self.tracks.get(&track).and_then(|t| t.image.as_deref())
    }
    pub fn replicas(&self, track: Track) -> Option<u32> {
        self.tracks.get(&track).and_then(|t| t.replicas)
    }
}

/// Everything a render depends on besides the fleet and the templates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderOptions {
    pub kube_version: KubeVersion,
    /// Rollout state by server name; servers not listed render as a fresh install.
    pub rollout: BTreeMap<String, RolloutState>,
}

/// The state of a server the options do not list: a fresh install.
static FRESH: RolloutState = RolloutState {
    active_colour: Colour::Blue,
    canary_weight: 0,
    tracks: BTreeMap::new(),
};

impl RenderOptions {
    /// The server's rollout state, borrowed (a render reads it once per server).
    pub fn state_for(&self, server: &str) -> &RolloutState {
        self.rollout.get(server).unwrap_or(&FRESH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unlisted_server_is_a_fresh_install() {
        assert_eq!(
            RenderOptions::default().state_for("x"),
            &RolloutState::default()
        );
    }

    #[test]
    fn parses_kube_versions() {
        assert_eq!(
            KubeVersion::parse("1.28").unwrap(),
            KubeVersion {
                major: 1,
                minor: 28
            }
        );
        assert_eq!(
            KubeVersion::parse("v1.28.7").unwrap(),
            KubeVersion {
                major: 1,
                minor: 28
            }
        );
        assert_eq!(KubeVersion::parse("v1.30.2-gke.100").unwrap().minor, 30);
        assert_eq!(KubeVersion::parse("1.29+").unwrap().minor, 29);
        for bad in ["", "1", "v", "one.two", "2.1", "1.x", "1.28.x", "1.22"] {
            let e = KubeVersion::parse(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
            assert!(
                e.to_string().contains("Kubernetes") || e.to_string().contains(bad),
                "{e}"
            );
        }
    }

    #[test]
    fn sleep_action_from_1_30() {
        assert!(!KubeVersion::parse("1.29").unwrap().has_sleep_action());
        assert!(KubeVersion::parse("1.30").unwrap().has_sleep_action());
    }
}
