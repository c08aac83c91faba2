//! Rough load check: N Deployments applied over HTTP, then listed; prints timings.
//! `cargo run -p test-apiserver --example load -- 1000`

use std::time::{Duration, Instant};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let srv = test_apiserver::ApiServer::builder().start().await;
        let t = Instant::now();
        for i in 0..n {
            let name = format!("mcp-{i}");
            let v = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "default", "labels": {"app.kubernetes.io/managed-by": "mcpctl"}},
                "spec": {"replicas": 3, "selector": {"matchLabels": {"app": name}}, "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "mcp", "image": "example/mcp:1"}]}}}});
            srv.put_object(v);
        }
        println!("stored {n} deployments in {:?}", t.elapsed());
        tokio::time::sleep(Duration::from_secs(3)).await;
        let st = srv.shared().store.lock().unwrap().objects.len();
        println!("objects after 3 s: {st}");
        let t = Instant::now();
        let doc = srv.get("/apis/apps/v1/namespaces/default/deployments/mcp-0");
        println!("get: {:?} ({})", t.elapsed(), doc.is_some());
        let t = Instant::now();
        let n_ready = {
            let st = srv.shared().store.lock().unwrap();
            st.list("apps", "deployments", None).filter(|(_, d)| d.pointer("/status/availableReplicas").is_some()).count()
        };
        println!("available deployments {n_ready} (lock wait {:?})", t.elapsed());
    });
}
