//! kube-rs (the client mcpctl uses) against the server: aggregated discovery, server-side
//! apply with conflicts, watch-based waiting, Leases with optimistic concurrency, custom
//! resources through DynamicObject.

use futures::TryStreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use kube::runtime::watcher;
use kube::{Client, Discovery};
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;
use test_apiserver::{ApiServer, Behaviour};

fn crds() -> PathBuf {
    test_apiserver::bundled_crds_dir()
}

async fn client(srv: &ApiServer, dir: &tempfile::TempDir) -> Client {
    let path = dir.path().join("kubeconfig");
    srv.write_kubeconfig(&path, "test", "default");
    let kc = kube::config::Kubeconfig::read_from(&path).expect("kubeconfig parses");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
        .await
        .expect("config");
    assert_eq!(cfg.default_namespace, "default");
    Client::try_from(cfg).expect("client")
}

fn deployment(name: &str, image: &str, replicas: i32) -> serde_json::Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
          "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "mcp", "image": image, "ports": [{"name": "http", "containerPort": 8080}]}]}}}})
}

fn rollout_complete(d: &Deployment) -> bool {
    let (Some(status), Some(spec)) = (&d.status, &d.spec) else {
        return false;
    };
    let desired = spec.replicas.unwrap_or(1);
    status.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
        && status.updated_replicas.unwrap_or(0) == desired
        && status.replicas.unwrap_or(0) == desired
        && status.available_replicas.unwrap_or(0) == desired
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregated_discovery_finds_builtins_and_crds() {
    let srv = ApiServer::builder()
        .crds_from_dir(crds())
        .without_crd("servicemonitors.monitoring.coreos.com")
        .start()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let c = client(&srv, &dir).await;
    let d = Discovery::new(c.clone())
        .run_aggregated()
        .await
        .expect("aggregated discovery");
    for (g, v, k) in [
        ("apps", "v1", "Deployment"),
        ("", "v1", "Service"),
        ("coordination.k8s.io", "v1", "Lease"),
        ("networking.istio.io", "v1", "VirtualService"),
        ("gateway.networking.k8s.io", "v1", "HTTPRoute"),
        ("monitoring.coreos.com", "v1", "PodMonitor"),
        ("policy", "v1", "PodDisruptionBudget"),
        ("autoscaling", "v2", "HorizontalPodAutoscaler"),
    ] {
        assert!(
            d.resolve_gvk(&GroupVersionKind::gvk(g, v, k)).is_some(),
            "{g}/{v} {k} not discovered"
        );
    }
    assert!(
        d.resolve_gvk(&GroupVersionKind::gvk(
            "monitoring.coreos.com",
            "v1",
            "ServiceMonitor"
        ))
        .is_none(),
        "a CRD left out must not be served"
    );
    let plain = Discovery::new(c)
        .run()
        .await
        .expect("unaggregated discovery");
    assert!(
        plain
            .resolve_gvk(&GroupVersionKind::gvk(
                "networking.istio.io",
                "v1beta1",
                "VirtualService"
            ))
            .is_some()
    );
    let v = srv
        .requests()
        .iter()
        .find(|r| r.path == "/version")
        .is_none();
    let _ = v;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_apply_conflicts_and_waiting_with_a_watch() {
    let srv = ApiServer::builder()
        .default_behaviour(Behaviour::ReadyAfter(Duration::from_millis(100)))
        .start()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let c = client(&srv, &dir).await;
    let api: Api<Deployment> = Api::namespaced(c, "default");
    let pp = PatchParams::apply("mcpctl").force();
    let created = api
        .patch(
            "web",
            &pp,
            &Patch::Apply(deployment("web", "example/web:1", 2)),
        )
        .await
        .expect("apply creates");
    assert_eq!(created.metadata.generation, Some(1));
    let rv = created.metadata.resource_version.clone();

    // Wait for the rollout with a watch, as mcpctl does.
    let stream = watcher(
        api.clone(),
        watcher::Config::default().fields("metadata.name=web"),
    );
    let done = tokio::time::timeout(Duration::from_secs(10), async {
        let mut s = std::pin::pin!(kube::runtime::WatchStreamExt::applied_objects(stream));
        while let Some(d) = s.try_next().await.expect("watch") {
            if rollout_complete(&d) {
                return d;
            }
        }
        panic!("watch ended")
    })
    .await
    .expect("rollout completes within 10 s");
    assert!(
        done.status
            .as_ref()
            .unwrap()
            .conditions
            .as_ref()
            .unwrap()
            .iter()
            .any(|c| c.type_ == "Progressing"
                && c.reason.as_deref() == Some("NewReplicaSetAvailable"))
    );

    // A no-op apply writes nothing.
    let current = api.get("web").await.unwrap();
    let again = api
        .patch(
            "web",
            &pp,
            &Patch::Apply(deployment("web", "example/web:1", 2)),
        )
        .await
        .unwrap();
    assert_eq!(
        again.metadata.resource_version,
        current.metadata.resource_version
    );
    assert_ne!(
        again.metadata.resource_version, rv,
        "the controller wrote status since the create"
    );

    // Another manager changing an owned field conflicts unless forced.
    let other = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"}, "spec": {"replicas": 5}});
    let err = api
        .patch(
            "web",
            &PatchParams::apply("other"),
            &Patch::Apply(other.clone()),
        )
        .await
        .expect_err("conflict");
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 409);
            assert_eq!(s.reason, "Conflict");
            assert_eq!(
                s.message,
                "Apply failed with 1 conflict: conflict with \"mcpctl\": .spec.replicas"
            );
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    let forced = api
        .patch(
            "web",
            &PatchParams::apply("other").force(),
            &Patch::Apply(other),
        )
        .await
        .unwrap();
    assert_eq!(forced.spec.unwrap().replicas, Some(5));
    assert_eq!(forced.metadata.generation, Some(2));

    // Dry run answers as if applied and stores nothing.
    let dry = api
        .patch(
            "web",
            &PatchParams::apply("mcpctl").force().dry_run(),
            &Patch::Apply(deployment("web", "example/web:2", 2)),
        )
        .await
        .unwrap();
    assert_eq!(
        dry.spec.unwrap().template.spec.unwrap().containers[0]
            .image
            .as_deref(),
        Some("example/web:2")
    );
    let stored = api.get("web").await.unwrap();
    assert_eq!(
        stored.spec.unwrap().template.spec.unwrap().containers[0]
            .image
            .as_deref(),
        Some("example/web:1")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_need_the_current_resource_version() {
    let srv = ApiServer::builder().start().await;
    let dir = tempfile::tempdir().unwrap();
    let c = client(&srv, &dir).await;
    let api: Api<Lease> = Api::namespaced(c, "default");
    let lease: Lease = serde_json::from_value(json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "lock"},
        "spec": {"holderIdentity": "a", "leaseDurationSeconds": 30, "acquireTime": "2026-11-21T05:57:18.263923Z", "renewTime": "2026-11-21T05:57:18.263923Z", "leaseTransitions": 0}}))
    .unwrap();
    let created = api
        .create(&PostParams::default(), &lease)
        .await
        .expect("create");
    let err = api
        .create(&PostParams::default(), &lease)
        .await
        .expect_err("second create");
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 409 && s.reason == "AlreadyExists"),
        "{err:?}"
    );
    let mut renewed = created.clone();
    renewed.spec.as_mut().unwrap().renew_time =
        Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime(
            "2026-11-21T05:57:28.000001Z".parse().unwrap(),
        ));
    let renewed = api
        .replace("lock", &PostParams::default(), &renewed)
        .await
        .expect("renew with the current resourceVersion");
    assert_ne!(
        renewed.metadata.resource_version,
        created.metadata.resource_version
    );
    let mut stale = created.clone();
    stale.spec.as_mut().unwrap().holder_identity = Some("b".into());
    let err = api
        .replace("lock", &PostParams::default(), &stale)
        .await
        .expect_err("stale");
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 409 && s.reason == "Conflict"),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_resources_through_dynamic_objects() {
    let srv = ApiServer::builder().crds_from_dir(crds()).start().await;
    let dir = tempfile::tempdir().unwrap();
    let c = client(&srv, &dir).await;
    let d = Discovery::new(c.clone()).run_aggregated().await.unwrap();
    let (ar, caps) = d
        .resolve_gvk(&GroupVersionKind::gvk(
            "networking.istio.io",
            "v1",
            "VirtualService",
        ))
        .unwrap();
    assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);
    let api: Api<DynamicObject> = Api::namespaced_with(c, "default", &ar);
    let vs = json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "mcp"},
        "spec": {"hosts": ["mcp"], "http": [{"route": [{"destination": {"host": "mcp", "subset": "stable"}, "weight": 90}, {"destination": {"host": "mcp", "subset": "canary"}, "weight": 10}]}]}});
    let created = api
        .patch(
            "mcp",
            &PatchParams::apply("mcpctl").force(),
            &Patch::Apply(vs.clone()),
        )
        .await
        .expect("apply VirtualService");
    assert_eq!(created.metadata.generation, Some(1));
    let mut bad = vs;
    bad["spec"]["http"][0]["route"][1]["weight"] = json!("ten");
    let err = api
        .patch(
            "mcp",
            &PatchParams::apply("mcpctl").force(),
            &Patch::Apply(bad),
        )
        .await
        .expect_err("wrong type");
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 500 && s.message.contains("expected numeric (int or float), got string")),
        "{err:?}"
    );
}
