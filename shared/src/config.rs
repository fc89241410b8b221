//! Configuration, read and checked once per cold start. Two parts:
//! - the environment (table names, queue, secret id, limits), set by template.yaml;
//! - the config file (rules, identity mapping, redaction, source mappings), built into the
//!   bundle from `config/securitybot.toml`, or read from `SECURITYBOT_CONFIG` when set.
//!
//! Every problem is collected and reported at once, each naming the variable or setting.

use crate::adapters::duo::DuoSettings;
use crate::core::enrollment::Approval;
use crate::core::identity::IdentityConfig;
use crate::core::links::LinkPolicy;
use crate::core::redact::Redactor;
use crate::core::rules::{Defaults, RuleBook, RuleOverrides};
use crate::core::secrets::SecretPurpose;
use crate::error::{Error, Result};
use crate::intake::formats::mapping::SourceMappings;
use crate::intake::webhook::WebhookLimits;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::str::FromStr;

/// The config file shipped in the bundle.
pub const BUNDLED_CONFIG: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../config/securitybot.toml"
));

/// Reads environment variables, collecting every problem instead of stopping at the first.
pub struct EnvReader<F: Fn(&str) -> Option<String>> {
    lookup: F,
    problems: Vec<String>,
}

impl EnvReader<fn(&str) -> Option<String>> {
    pub fn from_process() -> Self {
        EnvReader::new(|name| std::env::var(name).ok())
    }
}

impl<F: Fn(&str) -> Option<String>> EnvReader<F> {
    pub fn new(lookup: F) -> Self {
        EnvReader {
            lookup,
            problems: Vec::new(),
        }
    }

    fn value(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    pub fn required(&mut self, name: &str) -> String {
        self.value(name).unwrap_or_else(|| {
            self.problems.push(format!("{name} is not set"));
            String::new()
        })
    }

    pub fn optional(&self, name: &str) -> Option<String> {
        self.value(name)
    }

    pub fn number<T: FromStr + PartialOrd + std::fmt::Display + Copy>(
        &mut self,
        name: &str,
        default: T,
        min: T,
        max: T,
    ) -> T {
        let Some(text) = self.value(name) else {
            return default;
        };
        match text.parse::<T>() {
            Ok(n) if n >= min && n <= max => n,
            _ => {
                self.problems.push(format!(
                    "{name} must be a number from {min} to {max} (got '{text}')"
                ));
                default
            }
        }
    }

    pub fn finish(self) -> Result<()> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Config(self.problems.join("; ")))
        }
    }
}

/// Where the shared resources are: names and URLs from the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    pub alerts_table: String,
    pub snoozes_table: String,
    pub people_table: String,
    pub work_queue_url: String,
    /// The secret of each purpose this function is granted (`WEBHOOK_SECRET_ID`,
    /// `SLACK_SECRET_ID`, `SECOND_FACTOR_SECRET_ID`, `SIEM_SECRET_ID`); the others are absent.
    pub secret_ids: BTreeMap<&'static str, String>,
    /// `METRICS_NAMESPACE`: the CloudWatch namespace of our metrics (one per stack).
    pub metrics_namespace: String,
    /// `RULES_CONFIG_ID`: the rules document operators edit (none: the bundled file only).
    pub rules_config_id: Option<String>,
    /// Once-only markers and poller positions.
    pub checkpoints_table: String,
    /// Raw payloads, for the functions that admit alerts (ingest, poller); no one else has it.
    pub payloads_table: Option<String>,
    /// Claims on once-only sends, for the functions that make them (notifier, write-back).
    pub claims_table: Option<String>,
}

impl Resources {
    pub fn read<F: Fn(&str) -> Option<String>>(env: &mut EnvReader<F>) -> Self {
        Resources {
            alerts_table: env.required("ALERTS_TABLE"),
            snoozes_table: env.required("SNOOZES_TABLE"),
            people_table: env.required("PEOPLE_TABLE"),
            work_queue_url: env.required("WORK_QUEUE_URL"),
            secret_ids: SecretPurpose::ALL
                .into_iter()
                .filter_map(|p| Some((p.env_var(), env.optional(p.env_var())?)))
                .collect(),
            metrics_namespace: env
                .optional("METRICS_NAMESPACE")
                .unwrap_or_else(|| crate::adapters::emf::DEFAULT_NAMESPACE.to_string()),
            rules_config_id: env.optional("RULES_CONFIG_ID"),
            checkpoints_table: env.required("CHECKPOINTS_TABLE"),
            payloads_table: env.optional("PAYLOADS_TABLE"),
            claims_table: env.optional("CLAIMS_TABLE"),
        }
    }
}

/// Everything the ingest function needs from its environment.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestSettings {
    pub resources: Resources,
    pub limits: WebhookLimits,
    pub retention_days: i64,
    pub config_path: Option<String>,
}

impl IngestSettings {
    pub fn from_env<F: Fn(&str) -> Option<String>>(mut env: EnvReader<F>) -> Result<Self> {
        let defaults = WebhookLimits::default();
        // The webhook cannot check a request without its keys: say so at cold start.
        env.required(SecretPurpose::Webhook.env_var());
        let settings = IngestSettings {
            resources: Resources::read(&mut env),
            limits: WebhookLimits {
                max_body_bytes: env.number(
                    "MAX_BODY_BYTES",
                    defaults.max_body_bytes,
                    1024,
                    6 * 1024 * 1024,
                ),
                max_batch: env.number("MAX_BATCH", defaults.max_batch, 1, 1000),
                signature_tolerance_seconds: env.number(
                    "SIGNATURE_TOLERANCE_SECONDS",
                    defaults.signature_tolerance_seconds,
                    30,
                    3600,
                ),
                admit_concurrency: defaults.admit_concurrency,
            },
            retention_days: env.number("ALERT_RETENTION_DAYS", 180, 1, 3650),
            config_path: env.optional("SECURITYBOT_CONFIG"),
        };
        env.finish()?;
        Ok(settings)
    }
}

/// What the conversation functions (notifier, interaction, admin) need from the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationSettings {
    pub resources: Resources,
    /// `SLACK_API_URL`, so tests and local runs can use a stand-in.
    pub slack_api_url: String,
    /// `SECURITY_CHANNEL_ID`: where escalations are posted.
    pub security_channel: String,
    /// `TEAM_USER_IDS`: comma-separated Slack user ids allowed to use the team buttons.
    pub team: Vec<String>,
    pub max_code_attempts: u32,
    pub max_code_failures_per_hour: u32,
    pub config_path: Option<String>,
    /// `DUO_API_URL`: send Duo's requests here instead of `https://<host>` (a stand-in in
    /// tests and local runs; signatures still name the configured host).
    pub duo_api_url: Option<String>,
}

impl ConversationSettings {
    pub fn from_env<F: Fn(&str) -> Option<String>>(mut env: EnvReader<F>) -> Result<Self> {
        let settings = ConversationSettings {
            resources: Resources::read(&mut env),
            slack_api_url: env
                .optional("SLACK_API_URL")
                .unwrap_or_else(|| crate::adapters::slack::DEFAULT_API_URL.to_string()),
            security_channel: env.required("SECURITY_CHANNEL_ID"),
            team: env
                .optional("TEAM_USER_IDS")
                .map(|ids| {
                    ids.split(',')
                        .map(|id| id.trim().to_string())
                        .filter(|id| !id.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            max_code_attempts: env.number("MAX_CODE_ATTEMPTS", 5, 1, 20),
            max_code_failures_per_hour: env.number("MAX_CODE_FAILURES_PER_HOUR", 10, 1, 100),
            config_path: env.optional("SECURITYBOT_CONFIG"),
            duo_api_url: env.optional("DUO_API_URL"),
        };
        env.finish()?;
        Ok(settings)
    }
}

/// What the poller function needs: the intake's resources plus its checkpoints and limits.
#[derive(Debug, Clone, PartialEq)]
pub struct PollerSettings {
    pub resources: Resources,
    pub retention_days: i64,
    /// `POLLER_MAX_PAGES`: pages per source per run.
    pub max_pages: usize,
    /// `POLLER_TIME_BUDGET_SECONDS`: wall time per run (keep it under the function's timeout).
    pub time_budget_seconds: u64,
    pub config_path: Option<String>,
}

impl PollerSettings {
    pub fn from_env<F: Fn(&str) -> Option<String>>(mut env: EnvReader<F>) -> Result<Self> {
        let settings = PollerSettings {
            resources: Resources::read(&mut env),
            retention_days: env.number("ALERT_RETENTION_DAYS", 180, 1, 3650),
            max_pages: env.number("POLLER_MAX_PAGES", 20, 1, 1000),
            time_budget_seconds: env.number("POLLER_TIME_BUDGET_SECONDS", 240, 5, 840),
            config_path: env.optional("SECURITYBOT_CONFIG"),
        };
        env.finish()?;
        Ok(settings)
    }
}

/// What the rollup function needs: where to post, in which time zone periods are counted.
#[derive(Debug, Clone, PartialEq)]
pub struct RollupSettings {
    pub resources: Resources,
    pub slack_api_url: String,
    pub security_channel: String,
    /// `ROLLUP_TIME_ZONE` (IANA name, default UTC): hours and days are the team's.
    pub time_zone: chrono_tz::Tz,
}

impl RollupSettings {
    pub fn from_env<F: Fn(&str) -> Option<String>>(mut env: EnvReader<F>) -> Result<Self> {
        let zone = env
            .optional("ROLLUP_TIME_ZONE")
            .unwrap_or_else(|| "UTC".into());
        let time_zone = zone.parse().unwrap_or_else(|_| {
            env.problems.push(format!(
                "ROLLUP_TIME_ZONE '{zone}' is not an IANA time zone (e.g. Europe/Lisbon)"
            ));
            chrono_tz::UTC
        });
        let settings = RollupSettings {
            resources: Resources::read(&mut env),
            slack_api_url: env
                .optional("SLACK_API_URL")
                .unwrap_or_else(|| crate::adapters::slack::DEFAULT_API_URL.to_string()),
            security_channel: env.required("SECURITY_CHANNEL_ID"),
            time_zone,
        };
        env.finish()?;
        Ok(settings)
    }
}

/// Where write-back goes: `WRITEBACK_SINK` (`off`, `splunk_hec`, `webhook`) and `WRITEBACK_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WritebackSink {
    Off,
    SplunkHec { url: String },
    Webhook { url: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct WritebackSettings {
    pub resources: Resources,
    pub sink: WritebackSink,
}

impl WritebackSettings {
    pub fn from_env<F: Fn(&str) -> Option<String>>(mut env: EnvReader<F>) -> Result<Self> {
        let resources = Resources::read(&mut env);
        let kind = env
            .optional("WRITEBACK_SINK")
            .unwrap_or_else(|| "off".into());
        let url = env.optional("WRITEBACK_URL");
        let sink = match (kind.as_str(), url) {
            ("off", _) => WritebackSink::Off,
            ("splunk_hec", Some(url)) => WritebackSink::SplunkHec { url },
            ("webhook", Some(url)) => WritebackSink::Webhook { url },
            ("splunk_hec" | "webhook", None) => {
                env.problems.push(format!(
                    "WRITEBACK_URL is not set (WRITEBACK_SINK is {kind})"
                ));
                WritebackSink::Off
            }
            (other, _) => {
                env.problems.push(format!(
                    "WRITEBACK_SINK must be off, splunk_hec or webhook (got '{other}')"
                ));
                WritebackSink::Off
            }
        };
        env.finish()?;
        Ok(WritebackSettings { resources, sink })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactionConfig {
    /// Extra regular expressions; the built-in ones are always on.
    #[serde(default)]
    pub patterns: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    identity: IdentityConfig,
    #[serde(default)]
    redaction: RedactionConfig,
    #[serde(default)]
    defaults: Defaults,
    #[serde(default)]
    rules: BTreeMap<String, RuleOverrides>,
    #[serde(default)]
    sources: SourceMappings,
    #[serde(default)]
    pollers: BTreeMap<String, crate::intake::poll::PollSource>,
    #[serde(default)]
    second_factor: SecondFactorSection,
    #[serde(default)]
    links: LinksSection,
}

/// `[links]`: the SIEM hosts an alert's link may point to (each poller's host is added).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinksSection {
    #[serde(default)]
    siem_hosts: Vec<String>,
}

/// `[second_factor]`: how a Yes is proven, and how a self-service TOTP enrollment is vouched for.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecondFactorSection {
    #[serde(default)]
    method: SecondFactorMethod,
    /// `team_approval` (default) or `cooling_off`.
    #[serde(default)]
    approval: Option<String>,
    #[serde(default)]
    cooling_off_hours: Option<u32>,
    /// `[second_factor.duo]`, for `method = "duo"`.
    #[serde(default)]
    duo: Option<DuoSettings>,
}

/// How a Yes is proven.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactorMethod {
    /// A code from an authenticator app, enrolled with the bot (the Home tab).
    #[default]
    Totp,
    /// A Duo push to the phone the person already has.
    Duo,
}

impl SecondFactorSection {
    /// The checked choice: the approval setting, and Duo's settings when Duo is the method.
    fn read(self, problems: &mut Vec<String>) -> (Approval, Option<DuoSettings>) {
        let approval = match (self.approval.as_deref(), self.cooling_off_hours) {
            (None | Some("team_approval"), None) => Approval::TeamApproval,
            (Some("cooling_off"), hours) => Approval::CoolingOff {
                cooling_off_hours: hours.unwrap_or(24),
            },
            (None | Some("team_approval"), Some(_)) => {
                problems.push(
                    "[second_factor] cooling_off_hours applies only with approval = \"cooling_off\""
                        .into(),
                );
                Approval::TeamApproval
            }
            (Some(other), _) => {
                problems.push(format!(
                    "[second_factor] approval '{other}' is not team_approval or cooling_off"
                ));
                Approval::TeamApproval
            }
        };
        let duo = match (self.method, self.duo) {
            (SecondFactorMethod::Duo, Some(duo)) => {
                problems.extend(duo.problems());
                Some(duo)
            }
            (SecondFactorMethod::Duo, None) => {
                problems.push(
                    "[second_factor] method = \"duo\" needs a [second_factor.duo] section (host, integration_key)"
                        .into(),
                );
                None
            }
            (SecondFactorMethod::Totp, Some(_)) => {
                problems.push(
                    "[second_factor.duo] is set but method is not \"duo\" (say which you mean)"
                        .into(),
                );
                None
            }
            (SecondFactorMethod::Totp, None) => None,
        };
        (approval, duo)
    }
}

/// The checked contents of the config file.
#[derive(Debug, Clone)]
pub struct BotConfig {
    pub identity: IdentityConfig,
    pub redactor: Redactor,
    pub rules: RuleBook,
    pub sources: SourceMappings,
    /// SIEMs to pull from (`[pollers.<name>]`), by name.
    pub pollers: BTreeMap<String, crate::intake::poll::PollSource>,
    /// How a self-service enrollment is vouched for (`[second_factor] approval`).
    pub approval: Approval,
    /// Duo, when a Yes is proven by a Duo push (`[second_factor] method = "duo"`).
    pub duo: Option<DuoSettings>,
    /// Where an alert's link may point (`[links] siem_hosts` and the pollers' hosts).
    pub links: LinkPolicy,
}

impl BotConfig {
    /// The file at `path`, or the bundled one.
    pub fn load(path: Option<&str>) -> Result<Self> {
        match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    Error::Config(format!("SECURITYBOT_CONFIG: cannot read {path}: {e}"))
                })?;
                Self::parse(&text, path)
            }
            None => Self::parse(BUNDLED_CONFIG, "the bundled config/securitybot.toml"),
        }
    }

    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let file: ConfigFile =
            toml::from_str(text).map_err(|e| Error::Config(format!("{origin}: {e}")))?;
        let rules = RuleBook {
            defaults: file.defaults,
            rules: file.rules,
        };
        let mut problems = rules.problems();
        let (approval, duo) = file.second_factor.read(&mut problems);
        for (name, source) in &file.pollers {
            problems.extend(source.problems(name));
        }
        problems.extend(LinkPolicy::problems(&file.links.siem_hosts));
        let poller_hosts = file.pollers.values().filter_map(|p| {
            url::Url::parse(&p.url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
        });
        let links = LinkPolicy::new(file.links.siem_hosts.iter().cloned().chain(poller_hosts));
        let redactor = Redactor::new(&file.redaction.patterns)
            .map_err(|e| problems.push(e))
            .ok();
        match redactor {
            Some(redactor) if problems.is_empty() => Ok(BotConfig {
                identity: file.identity,
                redactor,
                rules,
                sources: file.sources,
                pollers: file.pollers,
                approval,
                duo,
                links,
            }),
            _ => Err(Error::Config(format!("{origin}: {}", problems.join("; ")))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> EnvReader<impl Fn(&str) -> Option<String>> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        EnvReader::new(move |name| map.get(name).cloned())
    }

    #[test]
    fn the_second_factor_section_is_read_and_checked() {
        let parse = |section: &str| BotConfig::parse(section, "test.toml");
        let default = parse("").unwrap();
        assert_eq!(
            (default.approval, default.duo),
            (Approval::TeamApproval, None)
        );
        let cooling = parse("[second_factor]\napproval = \"cooling_off\"\n").unwrap();
        assert_eq!(
            cooling.approval,
            Approval::CoolingOff {
                cooling_off_hours: 24
            }
        );
        let duo = parse(
            "[second_factor]\nmethod = \"duo\"\n[second_factor.duo]\nhost = \"api-1234abcd.duosecurity.com\"\nintegration_key = \"DIWJ8X6AEYOR5OMC6TQ1\"\nusername = \"local_part\"\n",
        )
        .unwrap();
        let duo = duo.duo.unwrap();
        assert_eq!(duo.host, "api-1234abcd.duosecurity.com");
        assert_eq!(duo.username, crate::adapters::duo::DuoUsername::LocalPart);
        for (text, says) in [
            (
                "[second_factor]\nmethod = \"duo\"\n",
                "needs a [second_factor.duo]",
            ),
            ("[second_factor]\nmethod = \"sms\"\n", "unknown variant"),
            (
                "[second_factor]\napproval = \"whenever\"\n",
                "not team_approval or cooling_off",
            ),
            (
                "[second_factor]\ncooling_off_hours = 2\n",
                "only with approval",
            ),
            (
                "[second_factor.duo]\nhost = \"api-1.duosecurity.com\"\nintegration_key = \"DI1\"\n",
                "method is not",
            ),
        ] {
            let error = parse(text).unwrap_err().to_string();
            assert!(error.contains(says), "{text}: {error}");
        }
    }

    #[test]
    fn every_missing_or_bad_variable_is_named_at_once() {
        let err =
            IngestSettings::from_env(env(&[("ALERTS_TABLE", "a"), ("MAX_BODY_BYTES", "lots")]))
                .unwrap_err();
        let text = err.to_string();
        for name in [
            "SNOOZES_TABLE is not set",
            "PEOPLE_TABLE",
            "WORK_QUEUE_URL",
            "WEBHOOK_SECRET_ID",
            "MAX_BODY_BYTES must be a number from 1024 to 6291456 (got 'lots')",
        ] {
            assert!(text.contains(name), "{name} not in {text}");
        }
        assert!(!text.contains("ALERTS_TABLE"));
    }

    #[test]
    fn a_complete_environment_reads_with_defaults() {
        let s = IngestSettings::from_env(env(&[
            ("ALERTS_TABLE", "a"),
            ("SNOOZES_TABLE", "s"),
            ("PEOPLE_TABLE", "p"),
            ("WORK_QUEUE_URL", "q"),
            ("WEBHOOK_SECRET_ID", "x"),
            ("CHECKPOINTS_TABLE", "c"),
        ]))
        .unwrap();
        assert_eq!(s.limits, WebhookLimits::default());
        assert_eq!(s.retention_days, 180);
    }

    #[test]
    fn the_bundled_config_is_valid_and_bad_files_are_explained() {
        let config = BotConfig::load(None).expect("bundled config must load");
        assert!(
            !config.rules.rules.is_empty(),
            "the bundle documents some rules"
        );
        let err = BotConfig::parse("[rules.x]\nreminder_minutes = 99\ndeadline_minutes = 10\n[redaction]\npatterns = [\"(\"]\n", "test.toml").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("test.toml")
                && text.contains("rules.x")
                && text.contains("redaction.patterns[0]"),
            "{text}"
        );
        assert!(
            BotConfig::parse("[rulez]\n", "t")
                .unwrap_err()
                .to_string()
                .contains("rulez")
        );
    }
}
