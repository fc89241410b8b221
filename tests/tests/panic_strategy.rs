//! What a panic in a shipped handler reports. Release builds (ours and cargo-lambda's, so
//! `sam build`'s) abort on panic; this builds a function that panics on request with that same
//! strategy and runs it against a stand-in of Lambda's Runtime API.
//!
//! What it shows: the invocation before is answered; the panicking one gets neither a response
//! nor an error report: the process ends (SIGABRT) with the panic's message on stderr (the
//! function's log, where the "errors" saved query finds `panicked`). Lambda records that
//! invocation as `Runtime.ExitError`, counted in the function's `Errors` (and its alarm), and
//! the event source delivers the work again to a fresh container: SQS after the visibility
//! timeout, the stream by its retry policy, the Function URLs as a 502 to the caller, which
//! retries (a SIEM, Slack).

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const NEXT: &str = "/2018-06-01/runtime/invocation/next";

fn workspace() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn profile_panic(manifest: &toml::Table, profile: &str) -> String {
    manifest["profile"][profile]["panic"]
        .as_str()
        .unwrap_or("unwind")
        .to_string()
}

fn invocation(id: &str, payload: serde_json::Value) -> ResponseTemplate {
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 30_000;
    ResponseTemplate::new(200)
        .insert_header("lambda-runtime-aws-request-id", id)
        .insert_header("lambda-runtime-deadline-ms", deadline.to_string().as_str())
        .insert_header(
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:123456789012:function:hello",
        )
        .set_body_json(payload)
}

#[tokio::test]
async fn a_panic_in_a_shipped_handler_ends_the_process_without_reporting_the_invocation() {
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(workspace().join("Cargo.toml")).unwrap()).unwrap();
    let shipped = profile_panic(&manifest, "release");
    assert_eq!(
        shipped, "abort",
        "the release profile pins the panic strategy"
    );
    assert_eq!(
        profile_panic(&manifest, "panic-check"),
        shipped,
        "the profile built here panics as the shipped build does"
    );

    let target = workspace().join("target/panic-check-build");
    let built = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "--locked", "--profile", "panic-check"])
        .args(["--package", "hello-lambda"])
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(workspace())
        .status()
        .unwrap();
    assert!(built.success(), "building the panicking function");

    let api = MockServer::start().await;
    for (id, panic) in [("req-1", false), ("req-2", true)] {
        Mock::given(method("GET"))
            .and(path(NEXT))
            .respond_with(invocation(id, serde_json::json!({ "panic": panic })))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&api)
            .await;
    }
    // Afterwards, as Lambda does while no event is waiting: no answer yet.
    Mock::given(method("GET"))
        .and(path(NEXT))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(60)))
        .with_priority(5)
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&api)
        .await;

    let child = Command::new(target.join("panic-check/hello-lambda"))
        .env("AWS_LAMBDA_RUNTIME_API", api.address().to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "hello")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "panic")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "panic")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ended = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || child.wait_with_output()),
    )
    .await
    .expect("a panicking function ends at once, it does not wait for the next event")
    .unwrap()
    .unwrap();

    assert_eq!(
        ended.status.signal(),
        Some(6),
        "ended by SIGABRT: {:?}",
        ended.status
    );
    let stderr = String::from_utf8_lossy(&ended.stderr);
    assert!(
        stderr.contains("panicked") && stderr.contains("the handler hit a bug"),
        "{stderr}"
    );
    let posts: Vec<String> = api
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(
        posts,
        ["/2018-06-01/runtime/invocation/req-1/response"],
        "the first invocation answered; nothing at all for the one that panicked"
    );
}
