//! Test helpers: a render function of the shape the strategies take.

use serde_json::Value;

use super::{RenderOptions, Renderer, RolloutState};
use crate::error::Result;
use crate::fleet::Fleet;

/// Renders `server` of `f` (embedded templates) for a rollout state.
pub fn render_with<'a>(
    f: &'a Fleet,
    server: &'a str,
) -> impl Fn(&RolloutState) -> Result<Vec<Value>> + 'a {
    move |st: &RolloutState| {
        let mut o = RenderOptions::default();
        o.rollout.insert(server.to_string(), st.clone());
        Ok(Renderer::new(None)?
            .render_fleet(f, &[], &o)?
            .into_iter()
            .map(|x| x.value)
            .collect())
    }
}
