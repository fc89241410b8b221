//! Cold init of every function against a hello-world `lambda_runtime` binary built the same way:
//! the time from exec to the first `GET /runtime/invocation/next` on a stand-in Runtime API
//! (all of init: config, clients, TLS roots, the redactor). Interleaved rounds, medians and
//! the ratio to hello. Run with `scripts/bench.sh --bench cold_start` (it builds the release
//! binaries first and starts moto; init makes no AWS call, the names just have to resolve).
//! Numbers, not pass/fail.

use securitybot_infra::{Template, template_path};
use securitybot_tests::Stack;
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

const FUNCTIONS: [(&str, &str); 8] = [
    ("ingest", "IngestFunction"),
    ("poller", "PollerFunction"),
    ("notifier", "NotifierFunction"),
    ("interaction", "InteractionFunction"),
    ("admin", "AdminFunction"),
    ("scheduler", "SchedulerFunction"),
    ("rollup", "RollupFunction"),
    ("writeback", "WritebackFunction"),
];

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::var("COLD_START_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(17);
    let stack = Stack::new("cold").await;
    let template = Template::load(&template_path()).unwrap();
    let release = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/cold-start");
    let mut runs: Vec<(String, String, BTreeMap<String, String>)> = vec![(
        "hello".into(),
        release.join("hello-lambda").display().to_string(),
        BTreeMap::new(),
    )];
    for (bin, logical) in FUNCTIONS {
        let mut env = stack.created.function_env(&template, logical).unwrap();
        env.insert("SECURITY_CHANNEL_ID".into(), "CSECURITY".into());
        env.insert("WRITEBACK_SINK".into(), "off".into());
        runs.push((
            bin.into(),
            release.join(bin).display().to_string(),
            env.clone(),
        ));
        // The same function as the template deploys it: the shared bootstrap, told which.
        env.insert("SECURITYBOT_FUNCTION".into(), bin.into());
        let shared = release.join("securitybot").display().to_string();
        runs.push((format!("{bin}@shared"), shared, env));
    }
    for (name, path, _) in &runs {
        assert!(
            std::path::Path::new(path).exists(),
            "{name}: build it first (scripts/bench.sh --bench cold_start does)"
        );
    }
    let mut times: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
    for _ in 0..rounds {
        for (name, path, env) in &runs {
            times
                .entry(name.clone())
                .or_default()
                .push(cold_init(name, path, env).await);
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1000.0
    };
    let hello = median(times.get_mut("hello").unwrap());
    println!(
        "cold init, exec -> first /next, median of {rounds} (hello {hello:.1} ms): its own binary, the shared bootstrap"
    );
    let mut figures = serde_json::json!({"hello_ms": hello, "rounds": rounds});
    for (name, _) in FUNCTIONS {
        let own = median(times.get_mut(name).unwrap());
        let shared = median(times.get_mut(&format!("{name}@shared")).unwrap());
        println!(
            "  {name:<12} {own:6.1} ms {:4.1}x hello   {shared:6.1} ms {:4.1}x hello",
            own / hello,
            shared / hello
        );
        figures[name] = own.into();
        figures[format!("{name}@shared")] = shared.into();
    }
    securitybot_tests::bench_result("cold_start", &figures);
}

/// Starts the binary against a stand-in Runtime API and times its first `/next`.
async fn cold_init(name: &str, path: &str, env: &BTreeMap<String, String>) -> Duration {
    let api = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = api.local_addr().unwrap().port();
    let started = Instant::now();
    let mut child = Command::new(path)
        .envs(env)
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "cold")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "cold")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let waited = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let (mut socket, _) = api.accept().await.unwrap();
            let mut head = vec![0u8; 1024];
            let n = socket.read(&mut head).await.unwrap_or(0);
            if String::from_utf8_lossy(&head[..n]).contains("/runtime/invocation/next") {
                return started.elapsed();
            }
        }
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();
    waited.unwrap_or_else(|_| panic!("{name} never asked for an invocation (does it start?)"))
}
