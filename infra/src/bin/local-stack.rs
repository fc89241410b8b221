//! `local-stack up` creates the template's resources on the emulator at AWS_ENDPOINT_URL and
//! writes the functions' environment to a file; `local-stack show` prints what is in
//! the alerts table and on the work queue. For the README's local run.

use securitybot_infra::{Template, provision, template_path};
use std::collections::BTreeMap;
use std::fmt::Write as _;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    match args.first().map(String::as_str) {
        Some("up") => {
            let prefix = arg("--prefix").unwrap_or_else(|| "securitybot-local".into());
            let env_file = arg("--env-file").unwrap_or_else(|| ".local/ingest.env".into());
            let secret = arg("--secret").ok_or("--secret '<json>' is required")?;
            let template = Template::load(&template_path())?;
            let created = provision(&template, &aws, &prefix, &secret).await?;
            // cargo lambda watch takes one environment for every function: the union of the
            // template's (they agree wherever they overlap).
            let mut env = BTreeMap::new();
            for (function, _) in template.of_type("AWS::Serverless::Function") {
                env.extend(created.function_env(&template, &function)?);
            }
            let mut text = String::new();
            for (k, v) in &env {
                writeln!(text, "{k}={v}")?;
            }
            if let Some(dir) = std::path::Path::new(&env_file).parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&env_file, text)?;
            println!(
                "created {} tables, {} queues and the secrets with prefix {prefix}; environment in {env_file}",
                template.of_type("AWS::DynamoDB::Table").len(),
                template.of_type("AWS::SQS::Queue").len()
            );
        }
        Some("show") => {
            let env_file = arg("--env-file").unwrap_or_else(|| ".local/ingest.env".into());
            let env: BTreeMap<String, String> = std::fs::read_to_string(&env_file)?
                .lines()
                .filter_map(|l| {
                    l.split_once('=')
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                })
                .collect();
            let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
            let items = dynamodb
                .scan()
                .table_name(&env["ALERTS_TABLE"])
                .send()
                .await?;
            println!("alerts table {}:", env["ALERTS_TABLE"]);
            for item in items.items() {
                let s = |k: &str| {
                    item.get(k)
                        .and_then(|v| v.as_s().ok())
                        .cloned()
                        .unwrap_or_default()
                };
                println!(
                    "  {}  status={}  user={}  rule={}  title={:?}",
                    s("alert_id"),
                    s("status"),
                    s("user"),
                    s("rule"),
                    s("title")
                );
            }
            let sqs = aws_sdk_sqs::Client::new(&aws);
            let msgs = sqs
                .receive_message()
                .queue_url(&env["WORK_QUEUE_URL"])
                .max_number_of_messages(10)
                .visibility_timeout(0)
                .send()
                .await?;
            println!("work queue:");
            for m in msgs.messages() {
                println!("  {}", m.body().unwrap_or_default());
            }
        }
        _ => {
            eprintln!(
                "usage: local-stack up --secret '<json>' [--prefix P] [--env-file F] | local-stack show [--env-file F]"
            );
            std::process::exit(2);
        }
    }
    Ok(())
}
