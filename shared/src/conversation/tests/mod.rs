//! Unit tests of the conversation's use cases on the in-memory twins: every branch, no moto.
//! (The moto and end-to-end tests in tests/ prove the adapters; these prove the logic.)

mod answers;
mod deadlines;
mod endpoint;
mod enrollment;
mod notifier;
mod push;

use super::answers::Answers;
use super::deadlines::Deadlines;
use super::notifier::Notifier;
use crate::adapters::emf::EmfMetrics;
use crate::adapters::memory::*;
use crate::config::BotConfig;
use crate::core::alert::AlertId;
use crate::core::interaction::{Interaction, Reply};
use crate::core::record::{AlertRecord, ChatRef};
use crate::core::state::{EscalationReason, Status};
use crate::core::work::{Action, WorkItem};
use chrono::{DateTime, Duration, TimeZone, Utc};
use std::sync::Arc;

pub const ALICE: &str = "alice@example.com";
pub const ALICE_CHAT: &str = "UALICE";
pub const TEAM_MEMBER: &str = "UTEAM";
pub const TEAM_EMAIL: &str = "tess@example.com";
pub const CHANNEL: &str = "CSECURITY";
/// Wrong codes allowed per alert, and per person per hour (the twins' setting).
pub const ATTEMPTS: u32 = 3;
pub const PERSON_LIMIT: u32 = 5;

/// Everything the conversation talks to, in memory, at a fixed time.
pub struct World {
    pub alerts: Arc<MemoryAlerts>,
    pub snoozes: Arc<MemorySnoozes>,
    pub directory: Arc<MemoryDirectory>,
    pub queue: Arc<MemoryQueue>,
    pub chat: Arc<MemoryChat>,
    pub second_factor: Arc<MemorySecondFactor>,
    /// Used only when [`World::pushing`] (the second factor is a push).
    pub push: Arc<MemoryPush>,
    pub pushing: bool,
    pub checkpoints: Arc<MemoryCheckpoints>,
    pub clock: Arc<FixedClock>,
    pub bot: BotConfig,
    /// What would have gone to CloudWatch.
    pub metrics: Arc<EmfMetrics>,
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap()
}

impl World {
    pub fn new() -> Self {
        World {
            alerts: Arc::new(MemoryAlerts::default()),
            snoozes: Arc::new(MemorySnoozes::default()),
            directory: Arc::new(MemoryDirectory::default()),
            queue: Arc::new(MemoryQueue::default()),
            chat: Arc::new(MemoryChat::with_people(&[
                (ALICE, ALICE_CHAT),
                (TEAM_EMAIL, TEAM_MEMBER),
            ])),
            second_factor: Arc::new(MemorySecondFactor::new(PERSON_LIMIT)),
            push: Arc::new(MemoryPush::default()),
            pushing: false,
            checkpoints: Arc::new(MemoryCheckpoints::default()),
            clock: Arc::new(FixedClock::at(t0())),
            bot: BotConfig::load(None).unwrap(),
            metrics: Arc::new(EmfMetrics::capturing("test")),
        }
    }

    /// The values recorded under `metric` with `dimension` = `value` (e.g. "Escalations",
    /// "Reason", "denied").
    pub fn counted(&self, metric: &str, dimension: &str, value: &str) -> Vec<f64> {
        self.metrics
            .lines()
            .iter()
            .filter(|l| l[dimension] == value)
            .filter_map(|l| l[metric].as_f64())
            .collect()
    }

    pub fn answers(&self) -> Answers {
        Answers {
            alerts: self.alerts.clone(),
            snoozes: self.snoozes.clone(),
            chat: self.chat.clone(),
            second_factor: self.second_factor.clone(),
            proof_by_push: self.pushing,
            queue: self.queue.clone(),
            clock: self.clock.clone(),
            rules: Arc::new(self.bot.rules.clone()),
            team: vec![TEAM_MEMBER.into()],
            max_code_attempts: ATTEMPTS,
            security_channel: CHANNEL.into(),
            approval: self.bot.approval,
            metrics: self.metrics.clone(),
        }
    }

    pub fn notifier(&self) -> Notifier {
        Notifier {
            alerts: self.alerts.clone(),
            directory: self.directory.clone(),
            chat: self.chat.clone(),
            queue: self.queue.clone(),
            checkpoints: self.checkpoints.clone(),
            clock: self.clock.clone(),
            rules: Arc::new(self.bot.rules.clone()),
            security_channel: CHANNEL.into(),
            pushes: self.pushing.then(|| super::push::Pushes {
                alerts: self.alerts.clone(),
                snoozes: self.snoozes.clone(),
                chat: self.chat.clone(),
                push: self.push.clone(),
                queue: self.queue.clone(),
                clock: self.clock.clone(),
                rules: Arc::new(self.bot.rules.clone()),
                metrics: self.metrics.clone(),
            }),
            metrics: self.metrics.clone(),
        }
    }

    pub fn deadlines(&self) -> Deadlines {
        Deadlines {
            alerts: self.alerts.clone(),
            queue: self.queue.clone(),
            clock: self.clock.clone(),
            batch: 50,
        }
    }

    /// Stores Alice's sudo alert (rule `sudo_root_shell`: 2FA, snooze up to 8 h by host,
    /// reminder at 10 min, deadline at 30) as it stands in `status`: asked at t0 if it got that
    /// far, with the deadline and next due time the notifier would have set.
    pub fn stored(&self, status: Status) -> AlertId {
        let mut record: AlertRecord = crate::core::messages::tests::record();
        record.status = status;
        if status != Status::Received {
            record.queued_at = Some(t0());
            record.chat_user = Some(ALICE_CHAT.into());
            record.ask_message = Some(ChatRef {
                channel: format!("D{ALICE_CHAT}"),
                ts: "1700000000.000001".into(),
            });
            record.deadline_at = Some(t0() + Duration::minutes(30));
            record.due_at = Some(t0() + Duration::minutes(10));
        }
        let id = record.id.clone();
        self.alerts.0.lock().unwrap().insert(id.clone(), record);
        id
    }

    pub fn record(&self, id: &AlertId) -> AlertRecord {
        self.alerts.record(id)
    }

    /// Stores a copy of Alice's alert under another id, changed by `edit`.
    pub fn another(&self, id: &str, edit: impl FnOnce(&mut AlertRecord)) -> AlertId {
        let mut record = crate::core::messages::tests::record();
        record.id = AlertId::from_stored(id);
        edit(&mut record);
        let id = record.id.clone();
        self.alerts.0.lock().unwrap().insert(id.clone(), record);
        id
    }

    pub fn edit(&self, id: &AlertId, edit: impl FnOnce(&mut AlertRecord)) {
        edit(self.alerts.0.lock().unwrap().get_mut(id).unwrap());
    }

    /// The person's (or the team's) interaction, handled.
    pub async fn answer(&self, interaction: Interaction) -> Reply {
        self.answers().handle(interaction).await.unwrap()
    }

    /// A work item, handled by the notifier.
    pub async fn notify(&self, action: Action, id: &AlertId) -> crate::error::Result<()> {
        self.notifier()
            .handle(&WorkItem::new(action, id.clone()))
            .await
    }

    /// The alert went to the team, for this reason.
    pub fn assert_escalated(&self, id: &AlertId, reason: EscalationReason) {
        let record = self.record(id);
        assert_eq!(record.status, Status::Escalated);
        assert_eq!(record.escalation_reason, Some(reason));
    }

    /// How many chat calls match.
    pub fn calls(&self, matching: impl Fn(&ChatCall) -> bool) -> usize {
        self.chat.calls().iter().filter(|c| matching(c)).count()
    }

    pub fn later(&self, minutes: i64) {
        self.clock.set(t0() + Duration::minutes(minutes));
    }

    /// The actions queued so far (and forgets them).
    pub fn queued(&self) -> Vec<Action> {
        self.queue.drain().into_iter().map(|i| i.action).collect()
    }
}
