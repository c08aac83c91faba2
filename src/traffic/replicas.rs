//! No mesh: the server's Service selects both tracks, so the share of the
//! canary is the share of its pods. The weight asked for is approximated by
//! the replica ratio, and the weight really achieved is reported.
//!
//! Without autoscaling the fleet's replica count is split between the tracks
//! (the stable track keeps at least one pod until promotion). With
//! autoscaling the autoscaler owns the stable track's count, so only the
//! canary is sized (never past the autoscaler's maximum): scaling the stable
//! track down would fight the autoscaler.

use super::router::{Sizing, WeightChange, WeightRouter, canary_deployment};
use crate::error::Result;
use crate::fleet::Server;
use crate::render::context::canary_replicas;

pub struct Replicas<'a> {
    pub server: &'a Server,
    pub sizing: Sizing,
}

/// Percent of the pods that are the canary's, rounded.
pub fn achieved(canary: u32, stable: u32) -> u32 {
    if canary + stable == 0 {
        return 0;
    }
    ((canary as f64 * 100.0) / f64::from(canary + stable)).round() as u32
}

/// The pods of each track at `weight`: `(canary, stable)`.
pub fn split(sizing: Sizing, weight: u32) -> (u32, u32) {
    let weight = weight.min(100);
    if weight == 0 {
        return (0, sizing.stable);
    }
    if sizing.autoscaled {
        let s = sizing.stable;
        let c = if weight == 100 {
            sizing.max
        } else {
            (s * weight).div_ceil(100 - weight)
        };
        return (c.clamp(1, sizing.max), s);
    }
    let c = canary_replicas(sizing.stable, weight);
    (c, sizing.stable.saturating_sub(c).max(1))
}

impl WeightRouter for Replicas<'_> {
    fn name(&self) -> &'static str {
        "service"
    }
    fn weights(&self, weight: u32) -> Result<WeightChange> {
        let (c, s) = split(self.sizing, weight);
        let stable = self.server.name.clone();
        let canary = canary_deployment(&self.server.name);
        // Traffic leaves the canary first: its pods go before the stable
        // track grows back. On the way up the canary is scaled (and ready)
        // by the step before, so only the stable track shrinks here.
        let mut scale = Vec::new();
        if weight == 0 {
            scale.push((canary, 0));
        }
        if !self.sizing.autoscaled {
            scale.push((stable, s));
        }
        Ok(WeightChange {
            weight: weight.min(100),
            achieved: achieved(c, s),
            objects: Vec::new(),
            scale,
            canary_replicas: c,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(n: u32) -> Sizing {
        Sizing {
            stable: n,
            autoscaled: false,
            max: n,
        }
    }

    #[test]
    fn the_fleet_count_is_split_and_the_real_weight_reported() {
        assert_eq!(split(fixed(3), 0), (0, 3));
        assert_eq!(split(fixed(3), 10), (1, 2));
        assert_eq!(achieved(1, 2), 33);
        assert_eq!(split(fixed(10), 25), (3, 7));
        assert_eq!(achieved(3, 7), 30);
        assert_eq!(split(fixed(10), 50), (5, 5));
        // The stable track keeps a pod until promotion.
        assert_eq!(split(fixed(4), 100), (4, 1));
        assert_eq!(achieved(4, 1), 80);
        assert_eq!(achieved(0, 0), 0);
    }

    #[test]
    fn with_an_autoscaler_only_the_canary_is_sized() {
        let s = Sizing {
            stable: 4,
            autoscaled: true,
            max: 10,
        };
        assert_eq!(split(s, 20), (1, 4));
        assert_eq!(split(s, 50), (4, 4));
        assert_eq!(split(s, 75), (10, 4), "never past the maximum");
        assert_eq!(split(s, 100), (10, 4));
        assert_eq!(split(s, 0), (0, 4));
    }
}
