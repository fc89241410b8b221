//! Rules changed without a rebuild: each function's use case is built from the configuration
//! in force, and built again when an operator saves a new version of the rules document.
//! Checked at most once a minute per container; every version is validated as the cold start
//! validates the bundled file, and a bad one is refused (logged with the setting it names,
//! counted for the `RulesRefusedAlarm`) while the last good one stays in force.

use crate::adapters::config_store::SecretsManagerConfig;
use crate::config::{BotConfig, Resources};
use crate::core::metrics::Metric;
use crate::error::Result;
use crate::ports::{Clock, ConfigCheck, ConfigStore, Metrics};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use tokio::sync::Mutex;

/// How long a container trusts the rules it has before looking at the store again.
pub const RECHECK: chrono::Duration = chrono::Duration::seconds(60);

/// Where the document is named in errors and logs.
const ORIGIN: &str = "the rules document (RulesConfig)";

type Build<T> = Box<dyn Fn(BotConfig) -> T + Send + Sync>;

pub struct LiveConfig<T> {
    bundled: BotConfig,
    store: Option<Arc<dyn ConfigStore>>,
    clock: Arc<dyn Clock>,
    metrics: Arc<dyn Metrics>,
    build: Build<T>,
    state: Mutex<State<T>>,
}

struct State<T> {
    current: Arc<T>,
    /// The store's version in force (`None`: the bundled file).
    in_force: Option<String>,
    /// A version refused, so it is not parsed again (but still counted while it stays).
    refused: Option<String>,
    checked_at: Option<DateTime<Utc>>,
}

impl<T> LiveConfig<T> {
    /// `bundled`: the file built in (or `SECURITYBOT_CONFIG`), in force until the store says
    /// otherwise. Without a store the configuration never changes.
    pub fn new(
        bundled: BotConfig,
        store: Option<Arc<dyn ConfigStore>>,
        clock: Arc<dyn Clock>,
        metrics: Arc<dyn Metrics>,
        build: impl Fn(BotConfig) -> T + Send + Sync + 'static,
    ) -> Self {
        let current = Arc::new(build(bundled.clone()));
        LiveConfig {
            bundled,
            store,
            clock,
            metrics,
            build: Box::new(build),
            state: Mutex::new(State {
                current,
                in_force: None,
                refused: None,
                checked_at: None,
            }),
        }
    }

    /// The use case built from the rules in force, looking at the store first when the last
    /// look is older than [`RECHECK`]. Never fails: a store that cannot be read keeps what is
    /// in force (logged), as a refused version does.
    pub async fn current(&self) -> Arc<T> {
        let mut state = self.state.lock().await;
        let now = self.clock.now();
        let Some(store) = &self.store else {
            return state.current.clone();
        };
        if state.checked_at.is_some_and(|at| now - at < RECHECK) {
            return state.current.clone();
        }
        state.checked_at = Some(now);
        let document = match store.read().await {
            Ok(document) => document,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the rules document; the rules in force stay");
                return state.current.clone();
            }
        };
        if state.in_force.as_ref() == Some(&document.version) {
            return state.current.clone();
        }
        if state.refused.as_ref() == Some(&document.version) {
            self.metrics.record(Metric::RulesRefused);
            return state.current.clone();
        }
        match read_document(&document.text, &self.bundled) {
            Ok(config) => {
                state.current = Arc::new((self.build)(config));
                state.in_force = Some(document.version.clone());
                state.refused = None;
                tracing::info!(version = %document.version, "rules document in force");
            }
            Err(e) => {
                tracing::error!(version = %document.version, error = %e, "rules document refused; the last good rules stay in force");
                self.metrics.record(Metric::RulesRefused);
                state.refused = Some(document.version);
            }
        }
        state.current.clone()
    }
}

/// The live configuration of a function: the store is the document `RULES_CONFIG_ID` names
/// (none: the bundled file, for good).
pub fn from_store<T>(
    aws: &aws_config::SdkConfig,
    resources: &Resources,
    bundled: BotConfig,
    clock: Arc<dyn Clock>,
    metrics: Arc<dyn Metrics>,
    build: impl Fn(BotConfig) -> T + Send + Sync + 'static,
) -> LiveConfig<T> {
    let store = resources.rules_config_id.as_ref().map(|id| {
        Arc::new(SecretsManagerConfig::new(
            aws_sdk_secretsmanager::Client::new(aws),
            id.clone(),
        )) as Arc<dyn ConfigStore>
    });
    LiveConfig::new(bundled, store, clock, metrics, build)
}

/// What a function's `main` builds once per cold start: the system clock, metrics on stdout,
/// and its use case from the rules in force (`wire(config, clock, metrics)`).
pub fn for_main<T>(
    aws: &aws_config::SdkConfig,
    resources: &Resources,
    bundled: BotConfig,
    wire: impl Fn(BotConfig, Arc<dyn Clock>, Arc<dyn Metrics>) -> T + Send + Sync + 'static,
) -> LiveConfig<T> {
    let clock: Arc<dyn Clock> = Arc::new(crate::adapters::clock::SystemClock);
    let metrics = super::emf_metrics(resources);
    let (c, m) = (clock.clone(), metrics.clone());
    from_store(aws, resources, bundled, clock, metrics, move |config| {
        wire(config, c.clone(), m.clone())
    })
}

/// A document with nothing but comments and blank lines means the bundled file (the template
/// creates the document that way).
fn read_document(text: &str, bundled: &BotConfig) -> Result<BotConfig> {
    let blank = text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
    if blank {
        return Ok(bundled.clone());
    }
    BotConfig::parse(text, ORIGIN)
}

/// Checks a candidate document against the configuration a function has in force.
pub struct RulesCheck {
    pub in_force: BotConfig,
}

impl ConfigCheck for RulesCheck {
    fn check(&self, candidate: &str) -> Result<Vec<String>> {
        let next = read_document(candidate, &self.in_force)?;
        Ok(self.in_force.rules.changes_to(&next.rules))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::emf::EmfMetrics;
    use crate::adapters::memory::FixedClock;
    use crate::core::alert::Severity;
    use crate::ports::ConfigDocument;
    use async_trait::async_trait;
    use std::sync::Mutex as StdMutex;

    /// A store whose document the test edits; it can be made to fail.
    #[derive(Default)]
    struct Editable(StdMutex<Option<ConfigDocument>>);

    impl Editable {
        fn save(&self, version: &str, text: &str) {
            *self.0.lock().unwrap() = Some(ConfigDocument {
                version: version.into(),
                text: text.into(),
            });
        }
    }

    #[async_trait]
    impl ConfigStore for Editable {
        async fn read(&self) -> Result<ConfigDocument> {
            self.0
                .lock()
                .unwrap()
                .clone()
                .ok_or_else(|| crate::error::Error::transient("secretsmanager", "unreachable"))
        }
    }

    fn deadline(config: &BotConfig) -> u32 {
        config
            .rules
            .settings_for("sudo")
            .deadline_minutes(Severity::High)
    }

    #[tokio::test]
    async fn a_saved_version_takes_effect_and_a_bad_one_keeps_the_last_good() {
        let store = Arc::new(Editable::default());
        let clock = Arc::new(FixedClock::at(Utc::now()));
        let metrics = Arc::new(EmfMetrics::capturing("t"));
        let live = LiveConfig::new(
            BotConfig::load(None).unwrap(),
            Some(store.clone()),
            clock.clone(),
            metrics.clone(),
            |config| deadline(&config),
        );
        let bundled = *live.current().await; // the store unreachable: the bundled file
        store.save("v1", "# nothing yet\n\n");
        clock.advance(RECHECK);
        assert_eq!(
            *live.current().await,
            bundled,
            "a blank document is the bundled file"
        );

        store.save("v2", "[rules.sudo]\ndeadline_minutes = 45\n");
        assert_eq!(
            *live.current().await,
            bundled,
            "not looked at within a minute"
        );
        clock.advance(RECHECK);
        assert_eq!(*live.current().await, 45, "in force without a restart");

        store.save(
            "v3",
            "[rules.sudo]\ndeadline_minutes = 10\nreminder_minutes = 20\n",
        );
        clock.advance(RECHECK);
        assert_eq!(*live.current().await, 45, "refused: the last good stays");
        clock.advance(RECHECK);
        live.current().await;
        let refused = metrics
            .lines()
            .iter()
            .filter(|l| l["RulesRefused"] == 1.0)
            .count();
        assert_eq!(
            refused, 2,
            "counted at every look while it stays in the store"
        );

        store.save("v4", "[rules.sudo]\ndeadline_minutes = 20\n");
        clock.advance(RECHECK);
        assert_eq!(*live.current().await, 20, "a fixed version takes over");
    }

    #[test]
    fn a_candidate_is_checked_as_the_functions_read_it_and_its_changes_listed() {
        let check = RulesCheck {
            in_force: BotConfig::load(None).unwrap(),
        };
        let err = check
            .check("[rules.sudo]\nreminder_minutes = 99\ndeadline_minutes = 10\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("rules.sudo") || err.contains("sudo"), "{err}");
        assert!(check.check("# blank\n").unwrap().is_empty());
        let changes = check
            .check("[rules.sudo]\ndeadline_minutes = 45\n")
            .unwrap();
        assert!(
            changes
                .iter()
                .any(|c| c.starts_with("sudo: deadline_minutes (high)")),
            "{changes:#?}"
        );
    }
}
