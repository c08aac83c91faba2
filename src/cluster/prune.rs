//! The fleet's ApplySet in the cluster ([`crate::applyset`]): reading the
//! parent ConfigMap, listing the members of every group-kind it records,
//! recording group-kinds before an apply (the union of old and new, so an
//! interrupted apply leaks nothing) and narrowing them after a prune, and
//! deleting members.

use std::collections::{BTreeMap, BTreeSet};

use http::Method;
use serde_json::{Value, json};

use super::client::{Cluster, Req};
use super::discovery::Discovered;
use crate::applyset::{self, Contents, GroupKind};
use crate::error::{Error, Result};

/// The set as the cluster holds it.
#[derive(Debug, Clone, Default)]
pub struct Set {
    pub id: String,
    /// What the parent records (empty when there is no parent yet).
    pub recorded: Contents,
    /// Whether the parent exists.
    pub exists: bool,
    /// The live members of every group-kind listed, `kind` and `apiVersion`
    /// set; when read with the rendered objects' live state
    /// ([`Listed`]), without the rendered ones (they are neither pruned nor
    /// needed to decide what the parent keeps recording: they are recorded
    /// anyway).
    pub members: Vec<Value>,
    /// The group-kinds whose members were listed.
    pub listed: BTreeSet<GroupKind>,
    /// Group-kinds the parent records that the cluster no longer serves
    /// (a CRD removed): they have no objects left.
    pub unserved: Vec<GroupKind>,
}

fn parent_path(fleet: &str, ns: &str) -> String {
    format!(
        "/api/v1/namespaces/{ns}/configmaps/{}",
        applyset::parent_name(fleet)
    )
}

/// The live parent, or `None`.
async fn get_parent(cluster: &Cluster, fleet: &str, ns: &str) -> Result<Option<Value>> {
    let req = Req::get(parent_path(fleet, ns));
    let resp = cluster.send(&req).await?;
    match resp.status {
        404 => Ok(None),
        _ if resp.ok() => Ok(Some(resp.json()?)),
        _ => Err(cluster.api_error(&req, &resp)),
    }
}

/// Collections already listed for the live state of the rendered objects
/// (by collection path), with what they held besides those objects and
/// carries an ApplySet's part-of label: [`read`] takes the members from
/// there instead of listing those collections again.
#[derive(Debug, Clone, Default)]
pub struct Listed {
    by_collection: BTreeMap<String, Vec<Value>>,
}

impl Listed {
    /// The `collections` listed, with the `unclaimed` objects they held
    /// (each with its collection) that are no rendered object: those that
    /// belong to an ApplySet are kept.
    pub fn new<'a>(
        collections: impl IntoIterator<Item = &'a String>,
        unclaimed: impl IntoIterator<Item = (&'a str, Value)>,
    ) -> Listed {
        let mut by_collection: BTreeMap<String, Vec<Value>> = collections
            .into_iter()
            .map(|c| (c.clone(), Vec::new()))
            .collect();
        for (collection, obj) in unclaimed {
            if obj["metadata"]["labels"][applyset::PART_OF_LABEL].is_string() {
                by_collection
                    .entry(collection.to_string())
                    .or_default()
                    .push(obj);
            }
        }
        Listed { by_collection }
    }

    /// The members of set `id` that `collection` held, when it was listed.
    fn members(&self, collection: &str, id: &str) -> Option<Vec<Value>> {
        self.by_collection.get(collection).map(|items| {
            items
                .iter()
                .filter(|o| o["metadata"]["labels"][applyset::PART_OF_LABEL] == id)
                .cloned()
                .collect()
        })
    }
}

/// Reads the parent and lists the members of every group-kind it records and
/// of those in `also` (what an apply is about to write), in every namespace
/// either names: one LIST per group-kind and namespace, but for collections
/// `listed` already holds.
pub async fn read(
    cluster: &Cluster,
    disc: &Discovered,
    fleet: &str,
    ns: &str,
    also: &Contents,
    listed: Option<&Listed>,
) -> Result<Set> {
    let parent = get_parent(cluster, fleet, ns).await?;
    let recorded = match &parent {
        Some(p) => applyset::parse_parent(p, fleet, ns)?,
        None => Contents::default(),
    };
    let id = applyset::fleet_id(fleet, ns);
    let all = recorded.union(also);
    let selector = format!("{}={id}", applyset::PART_OF_LABEL);
    let mut lists = Vec::new();
    let mut unserved = Vec::new();
    for gk in &all.group_kinds {
        let Some(res) = disc.resolve_group_kind(&gk.group, &gk.kind) else {
            unserved.push(gk.clone());
            continue;
        };
        let namespaces: Vec<Option<&str>> = if res.namespaced {
            all.namespaces.iter().map(|n| Some(n.as_str())).collect()
        } else {
            vec![None]
        };
        for n in namespaces {
            lists.push((res.clone(), res.collection_path(n)));
        }
    }
    use futures::StreamExt;
    let sel = &selector;
    let id_ref = id.as_str();
    let results: Vec<Result<Vec<Value>>> =
        futures::stream::iter(lists.iter().map(|(res, path)| async move {
            if let Some(members) = listed.and_then(|l| l.members(path, id_ref)) {
                return Ok(members);
            }
            let items = list_paged(cluster, path, sel).await?;
            Ok(items
                .into_iter()
                .map(|mut o| {
                    // List items of built-in kinds carry no kind (transcript 43).
                    o["kind"] = json!(res.kind);
                    o["apiVersion"] = json!(res.api_version());
                    o
                })
                .collect())
        }))
        .buffered(8)
        .collect()
        .await;
    let mut members = Vec::new();
    for r in results {
        members.extend(r?);
    }
    Ok(Set {
        id,
        exists: parent.is_some(),
        recorded,
        members,
        listed: all
            .group_kinds
            .iter()
            .filter(|gk| !unserved.contains(gk))
            .cloned()
            .collect(),
        unserved,
    })
}

/// Lists the objects at `path` matching `selector` in pages of 500, like
/// kubectl; a 404 (the namespace is gone) lists nothing.
async fn list_paged(cluster: &Cluster, path: &str, selector: &str) -> Result<Vec<Value>> {
    let req = Req::get(path).query("labelSelector", selector);
    match cluster.list_pages(&req).await? {
        Ok(items) => Ok(items),
        Err(resp) if resp.status == 404 => Ok(Vec::new()),
        Err(resp) => Err(cluster.api_error(&req, &resp)),
    }
}

/// Rewrites what the parent records as `change` makes it from what it
/// records now (read again before each try, so that two applies of the
/// fleet never drop each other's group-kinds): with a resourceVersion
/// precondition, retried on a conflict. Writes nothing when nothing changes.
/// Returns whether it wrote.
pub async fn update_parent(
    cluster: &Cluster,
    fleet: &str,
    ns: &str,
    change: impl Fn(&Contents) -> Contents,
) -> Result<bool> {
    let path = parent_path(fleet, ns);
    for _ in 0..4 {
        let live = get_parent(cluster, fleet, ns).await?;
        let recorded = match &live {
            Some(p) => applyset::parse_parent(p, fleet, ns)?,
            None => Contents::default(),
        };
        let mut want = change(&recorded);
        want.namespaces.insert(ns.to_string());
        let body = applyset::parent_object(fleet, ns, &want);
        if let Some(l) = &live
            && want == recorded
            && l["metadata"]["annotations"][applyset::TOOLING_ANNOTATION]
                == body["metadata"]["annotations"][applyset::TOOLING_ANNOTATION]
        {
            return Ok(false);
        }
        let mut body = body;
        if let Some(rv) = live
            .as_ref()
            .and_then(|l| l["metadata"]["resourceVersion"].as_str())
        {
            body["metadata"]["resourceVersion"] = json!(rv);
        }
        let req = Req::new(Method::PATCH, &path)
            .query("fieldManager", applyset::PARENT_MANAGER)
            .query("force", "true")
            .json_body(&body)
            .content_type("application/apply-patch+yaml");
        let resp = cluster.send(&req).await?;
        if resp.ok() {
            return Ok(true);
        }
        if resp.status == 409 {
            continue; // changed since it was read: read again
        }
        return Err(cluster.api_error(&req, &resp));
    }
    Err(Error::Failed(format!(
        "could not update the ApplySet parent ConfigMap {ns}/{}: it kept changing under us \
         (another mcpctl applying the fleet?); run the command again",
        applyset::parent_name(fleet)
    )))
}

/// What an apply of some rendered objects finds in the set.
#[derive(Debug, Clone, Default)]
pub struct Pruning {
    pub set: Set,
    /// What the rendered objects need the parent to record.
    pub intended: Contents,
    /// Members the fleet no longer renders (of the applied servers only,
    /// when some are named), in listing order.
    pub candidates: Vec<Value>,
}

impl Pruning {
    /// Servers of the candidates that the fleet file no longer has.
    pub fn removed_servers(&self, fleet: &crate::fleet::Fleet) -> BTreeSet<String> {
        self.candidates
            .iter()
            .filter_map(|o| applyset::server_of(o))
            .filter(|s| !fleet.servers.iter().any(|x| x.name == *s))
            .map(str::to_string)
            .collect()
    }

    /// Servers of the candidates.
    pub fn servers(&self) -> BTreeSet<String> {
        self.candidates
            .iter()
            .filter_map(|o| applyset::server_of(o))
            .map(str::to_string)
            .collect()
    }

    /// Whether the parent must be written before the objects are (it does not
    /// exist, or does not record every group-kind or namespace yet).
    pub fn parent_behind(&self) -> bool {
        !self.set.exists || self.set.recorded.union(&self.intended) != self.set.recorded
    }

    /// After the candidates in `deleted` are gone: the group-kinds and
    /// namespaces that have no member left and are not rendered, which the
    /// parent stops recording.
    pub fn emptied(&self, deleted: &BTreeSet<applyset::ObjectKey>, ns: &str) -> Contents {
        let left: Vec<&Value> = self
            .set
            .members
            .iter()
            .filter(|o| !deleted.contains(&applyset::ObjectKey::of(o, ns)))
            .collect();
        let keep = Contents::of(left, ns).union(&self.intended);
        Contents {
            group_kinds: self
                .set
                .listed
                .difference(&keep.group_kinds)
                .cloned()
                .collect(),
            namespaces: self
                .set
                .recorded
                .namespaces
                .difference(&keep.namespaces)
                .cloned()
                .collect(),
        }
    }
}

/// Reads the set and finds what applying what a session prepared (the
/// rendered objects of the servers in `only`, all when empty) would prune.
/// Nothing is read when the namespace does not exist (it holds no member);
/// collections already listed for the live state are not listed again.
pub async fn find_prepared(
    s: &super::session::Session,
    prepared: &super::session::Prepared,
    only: &[String],
) -> Result<Pruning> {
    let ns = s.ns();
    let objects: Vec<&Value> = prepared.targets.iter().map(|t| &t.obj).collect();
    let intended = Contents::of(objects.iter().copied(), ns);
    if !prepared.ns_exists {
        return Ok(Pruning {
            intended,
            ..Default::default()
        });
    }
    let set = read(
        &s.cluster,
        &prepared.discovered,
        &s.fleet.name,
        ns,
        &intended,
        Some(&prepared.listed),
    )
    .await?;
    let keys: BTreeSet<applyset::ObjectKey> = objects
        .iter()
        .map(|o| applyset::ObjectKey::of(o, ns))
        .collect();
    let only: Option<BTreeSet<String>> = (!only.is_empty()).then(|| only.iter().cloned().collect());
    let candidates = applyset::to_prune(&set.members, &keys, only.as_ref(), ns)
        .into_iter()
        .cloned()
        .collect();
    Ok(Pruning {
        set,
        intended,
        candidates,
    })
}

/// `deployment.apps/github`, as kubectl names objects.
pub fn display(obj: &Value) -> String {
    let gk = GroupKind::of(obj);
    let name = obj["metadata"]["name"].as_str().unwrap_or("");
    if gk.group.is_empty() {
        format!("{}/{name}", gk.kind.to_lowercase())
    } else {
        format!("{}.{}/{name}", gk.kind.to_lowercase(), gk.group)
    }
}

/// What a delete of a member did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    Deleted,
    /// Already gone.
    Gone,
    /// The object was deleted and created again since it was listed (its uid
    /// changed): left alone.
    Replaced,
}

/// Deletes one member (background propagation, like kubectl), with its uid as
/// a precondition so that an object created again since it was listed is
/// never deleted. `dry_run` sends the delete as a server-side dry run.
pub async fn delete_member(
    cluster: &Cluster,
    disc: &Discovered,
    obj: &Value,
    dry_run: bool,
) -> Result<Deleted> {
    let gk = GroupKind::of(obj);
    let res = disc
        .resolve_group_kind(&gk.group, &gk.kind)
        .ok_or_else(|| Error::Failed(format!("{gk} is not served by the cluster")))?;
    let name = obj["metadata"]["name"].as_str().unwrap_or("");
    let ns = obj["metadata"]["namespace"].as_str();
    let mut opts = json!({"kind": "DeleteOptions", "apiVersion": "v1",
        "propagationPolicy": "Background"});
    if let Some(uid) = obj["metadata"]["uid"].as_str() {
        opts["preconditions"] = json!({"uid": uid});
    }
    let mut req = Req::new(Method::DELETE, res.object_path(ns, name));
    if dry_run {
        req = req.query("dryRun", "All");
    }
    let req = req.json_body(&opts);
    let resp = cluster.send(&req).await?;
    match resp.status {
        404 => Ok(Deleted::Gone),
        409 => Ok(Deleted::Replaced),
        _ if resp.ok() => Ok(Deleted::Deleted),
        _ => Err(cluster.api_error(&req, &resp)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_named_like_kubectl() {
        assert_eq!(
            display(
                &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "gh"}})
            ),
            "deployment.apps/gh"
        );
        assert_eq!(
            display(&json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "gh"}})),
            "service/gh"
        );
    }
}
