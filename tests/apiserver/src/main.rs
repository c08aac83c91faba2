//! `test-apiserver --port N --write-kubeconfig FILE [--crds DIR] [--context NAME]
//! [--namespace NS] [--proxy-service NS/NAME:PORT=URL] [--clock-skew-ms N]`: runs the test API
//! server until interrupted, for kubectl and people.

use std::time::Duration;
use test_apiserver::{ApiServer, Behaviour};

fn usage() -> ! {
    eprintln!(
        "usage: test-apiserver [--port N] [--write-kubeconfig FILE] [--crds DIR] [--without-crd NAME] [--context NAME] [--namespace NS] [--ready-after-ms N | --never-ready | --unmanaged] [--proxy-service NS/NAME:PORT=URL]... [--clock-skew-ms N]"
    );
    std::process::exit(2)
}

/// `NS/NAME:PORT=URL` of `--proxy-service`.
fn parse_proxy_flag(v: &str) -> Option<(&str, &str, u16, &str)> {
    let (svc, url) = v.split_once('=')?;
    let (ns, rest) = svc.split_once('/')?;
    let (name, port) = rest.split_once(':')?;
    Some((ns, name, port.parse().ok()?, url))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut b = ApiServer::builder();
    let mut kubeconfig = None;
    let mut context = "test-apiserver".to_string();
    let mut namespace = "default".to_string();
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--port" => b = b.port(val().parse().unwrap_or_else(|_| usage())),
            "--write-kubeconfig" => kubeconfig = Some(val()),
            "--crds" => b = b.crds_from_dir(val()),
            "--without-crd" => b = b.without_crd(&val()),
            "--context" => context = val(),
            "--namespace" => namespace = val(),
            "--ready-after-ms" => {
                b = b.default_behaviour(Behaviour::ReadyAfter(Duration::from_millis(
                    val().parse().unwrap_or_else(|_| usage()),
                )))
            }
            "--never-ready" => b = b.default_behaviour(Behaviour::NeverReady),
            // Deployments left as written, no controller at work (as the benchmarks run it).
            "--unmanaged" => {
                b = b
                    .default_behaviour(Behaviour::Unmanaged)
                    .without_controller()
            }
            "--proxy-service" => {
                let v = val();
                let Some((ns, name, port, url)) = parse_proxy_flag(&v) else {
                    eprintln!(
                        "test-apiserver: --proxy-service {v:?}: expected NS/NAME:PORT=URL, e.g. mcp/github:8080=http://127.0.0.1:9000"
                    );
                    usage()
                };
                b = b.proxy_service(ns, name, port, url);
            }
            "--clock-skew-ms" => b = b.clock_skew_ms(val().parse().unwrap_or_else(|_| usage())),
            "-h" | "--help" => usage(),
            other => {
                eprintln!("test-apiserver: unknown argument {other:?}");
                usage()
            }
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let srv = b.start().await;
        if let Some(k) = &kubeconfig {
            srv.write_kubeconfig(k, &context, &namespace);
        }
        println!("test-apiserver listening on {}", srv.url());
        if let Some(k) = &kubeconfig {
            println!("kubeconfig written to {k} (context {context}, namespace {namespace})");
        }
        let _ = tokio::signal::ctrl_c().await;
        srv.stop();
    });
}
