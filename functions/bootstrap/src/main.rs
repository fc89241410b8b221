//! Every function in one binary: template.yaml deploys this bootstrap for all eight, each with
//! `SECURITYBOT_FUNCTION` naming which one it is. One build instead of eight (`sam build` builds
//! a bootstrap shared by functions once), the same code as each function's own binary (their
//! `serve`), which `cargo lambda watch` / `invoke` still run one by one. Why one binary:
//! README, *Cost and scale* (build time, package size and cold start, measured side by side).

use lambda_runtime::Error;

/// The functions, by the name `SECURITYBOT_FUNCTION` gives them (their crate names).
const FUNCTIONS: [&str; 8] = [
    "ingest",
    "poller",
    "notifier",
    "interaction",
    "admin",
    "scheduler",
    "rollup",
    "writeback",
];

#[tokio::main]
async fn main() -> Result<(), Error> {
    securitybot::wiring::logging::init();
    let name = std::env::var("SECURITYBOT_FUNCTION").unwrap_or_default();
    match name.as_str() {
        "ingest" => ingest::serve().await,
        "poller" => poller::serve().await,
        "notifier" => notifier::serve().await,
        "interaction" => interaction::serve().await,
        "admin" => admin::serve().await,
        "scheduler" => scheduler::serve().await,
        "rollup" => rollup::serve().await,
        "writeback" => writeback::serve().await,
        other => Err(unknown(other).into()),
    }
}

/// Said at init, so Lambda reports it (`Runtime.ExitError`) before any event is taken.
fn unknown(name: &str) -> String {
    format!(
        "SECURITYBOT_FUNCTION is {name:?}: set it to one of {} (template.yaml does)",
        FUNCTIONS.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_function_is_named_with_the_choices() {
        let said = unknown("ingset");
        assert!(said.contains("\"ingset\""), "{said}");
        for f in FUNCTIONS {
            assert!(said.contains(f), "{said}");
        }
    }

    /// Every function the template deploys runs this bootstrap under a name it knows.
    #[test]
    fn the_template_runs_every_function_through_this_bootstrap() {
        let template = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml"),
        )
        .unwrap();
        let doc: serde_norway::Value = serde_norway::from_str(&template).unwrap();
        let mut named = Vec::new();
        for (id, resource) in doc["Resources"].as_mapping().unwrap() {
            if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
                continue;
            }
            let id = id.as_str().unwrap();
            assert_eq!(
                resource["Metadata"]["BuildProperties"]["Binary"].as_str(),
                Some("securitybot"),
                "{id} deploys the shared bootstrap"
            );
            let name = resource["Properties"]["Environment"]["Variables"]["SECURITYBOT_FUNCTION"]
                .as_str()
                .unwrap_or_else(|| panic!("{id} names its function"))
                .to_string();
            assert!(FUNCTIONS.contains(&name.as_str()), "{id}: {name}");
            named.push(name);
        }
        named.sort();
        let mut all = FUNCTIONS.to_vec();
        all.sort();
        assert_eq!(named, all, "each function deployed once");
    }
}
