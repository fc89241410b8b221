//! The outside world as the core sees it. Adapters implement these for AWS (and in memory for
//! tests); handlers receive them already built, once per cold start. Ports import only the
//! core. [`steps`] holds the two small protocols every use case runs over them.

pub mod steps;

use crate::core::alert::AlertId;
use crate::core::answer_event::AnswerEvent;
use crate::core::enrollment::Enrollment;
use crate::core::interaction::{Inbound, Reply};
use crate::core::messages::Message;
use crate::core::poll::Window;
use crate::core::record::{AlertRecord, ChatRef, PushSent};
use crate::core::secrets::Secrets;
use crate::core::snooze::Snooze;
use crate::core::state::Status;
use crate::core::transition::Transition;
use crate::core::work::{Announcement, ClaimKind, WorkItem};
use crate::error::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;

/// What happened when we tried to store a new alert.
#[derive(Debug, Clone, PartialEq)]
pub enum Inserted {
    /// First time we see it.
    Created,
    /// Already stored (a redelivery); here is what is stored.
    AlreadyStored(Box<AlertRecord>),
}

#[async_trait]
pub trait AlertStore: Send + Sync {
    /// Stores the record only if no alert with its id exists (one conditional write).
    async fn insert_new(&self, record: &AlertRecord) -> Result<Inserted>;
    /// Notes that the record's work item is on the queue, so the hand-off is not owed any more,
    /// and when to look again in case the work never happens (`due_at`).
    async fn mark_queued(
        &self,
        id: &AlertId,
        at: DateTime<Utc>,
        recheck_at: DateTime<Utc>,
    ) -> Result<()>;
    async fn get(&self, id: &AlertId) -> Result<Option<AlertRecord>>;
    /// Applies the transition if the alert is in one of its `from` statuses; returns the
    /// updated record, or `None` when it was not (someone else got there first).
    async fn transition(
        &self,
        id: &AlertId,
        transition: &Transition,
    ) -> Result<Option<AlertRecord>>;
    /// Takes the right to send `kind` for its lease, so two deliveries of one work item do not
    /// both post. False when another holder's lease is still running, or it was sent already.
    /// Use [`steps::send_once`].
    async fn claim(&self, id: &AlertId, kind: ClaimKind, now: DateTime<Utc>) -> Result<bool>;
    /// Gives a claim back after a failed send, so the retry need not wait out the lease.
    async fn release(&self, id: &AlertId, kind: ClaimKind) -> Result<()>;
    /// Marks the claimed message sent for good: no later claim of `kind` is granted.
    async fn mark_sent(&self, id: &AlertId, kind: ClaimKind, at: DateTime<Utc>) -> Result<()>;
    /// Records the team post, once. False if one was already recorded.
    async fn set_escalation_message(&self, id: &AlertId, message: &ChatRef) -> Result<bool>;
    /// Reserves one more second-factor attempt on the alert before a code is checked, in one
    /// conditional write: the new count, or `None` when `max` were already used (so codes
    /// submitted at once cannot try more than `max`).
    async fn reserve_code_attempt(&self, id: &AlertId, max: u32) -> Result<Option<u32>>;
    /// Alerts in `status` whose `due_at` has come (oldest first, at most `limit`), from the
    /// status/due index: the scheduler never scans the table.
    async fn due(&self, status: Status, now: DateTime<Utc>, limit: usize) -> Result<Vec<AlertId>>;
    /// Records the push sent for a Yes, once: false when the alert is no longer awaiting a
    /// push or one was recorded already (another delivery sent it).
    async fn record_push(&self, id: &AlertId, push: &PushSent) -> Result<bool>;
    /// Counts one more run in which the sweep failed for good on this alert; the new count.
    async fn note_failure(&self, id: &AlertId) -> Result<u32>;
    /// Takes the alert out of the sweep (nothing due any more); an operator handles it.
    async fn quarantine(&self, id: &AlertId) -> Result<()>;
    /// How many of this person's alerts are waiting for them ([`Status::is_waiting_for_person`]).
    /// Only alerts received since `since` are looked at, so the count reads a few days of the
    /// person's alerts, not their whole history.
    async fn open_asks(&self, user: &str, since: DateTime<Utc>) -> Result<usize>;
    /// The alerts received in `[start, end)`, counted as they are read from the received-day
    /// index, page by page (rollups; never a scan, never a day of alerts held at once).
    async fn count_received(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<crate::core::rollup::Tally>;
    /// Escalations the team has not acknowledged or closed yet, however old, oldest first
    /// (a sparse index holds only those).
    async fn awaiting_team(&self) -> Result<Vec<AlertRecord>>;
    /// One person's most recent alerts, newest first (an index, never a scan).
    async fn recent_for(&self, user: &str, limit: usize) -> Result<Vec<AlertSummary>>;
    /// Points the alert at a new team post (an operator re-sent it), with a line in its
    /// audit trail. False when there is no such alert.
    async fn replace_escalation_message(
        &self,
        id: &AlertId,
        message: &ChatRef,
        audit: &crate::core::state::AuditEntry,
    ) -> Result<bool>;
}

/// An alert as a list of a person's alerts shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertSummary {
    pub id: AlertId,
    pub status: Status,
    pub rule: String,
    pub title: String,
    pub received_at: DateTime<Utc>,
}

#[async_trait]
pub trait SnoozeStore: Send + Sync {
    /// The snooze stored under `key`, expired or not: callers check [`Snooze::is_active`].
    async fn find(&self, key: &str) -> Result<Option<Snooze>>;
    async fn put(&self, snooze: &Snooze) -> Result<()>;
    /// Every stored snooze (an admin look-up; expired ones included until TTL removes them).
    async fn list(&self) -> Result<Vec<Snooze>>;
    async fn remove(&self, key: &str) -> Result<()>;
}

#[async_trait]
pub trait Directory: Send + Sync {
    /// Whether the security team has said never to contact this person directly.
    async fn is_never_contact(&self, user: &str) -> Result<bool>;
    async fn set_never_contact(&self, user: &str, never: bool, by: &str) -> Result<()>;
    /// Everyone on the never-contact list (an admin look-up; scans the small people table).
    async fn never_contact_list(&self) -> Result<Vec<String>>;
    /// The person's chat id if we looked it up recently (the cache expires so renames heal),
    /// with their direct conversation if one was remembered for that id.
    async fn cached_contact(&self, user: &str, now: DateTime<Utc>) -> Result<Option<ChatContact>>;
    /// What the notifier needs before a DM, in one read where the store can: whether the person
    /// is on the never-contact list, and their cached contact.
    async fn reach(&self, user: &str, now: DateTime<Utc>) -> Result<Reach> {
        Ok(Reach {
            never_contact: self.is_never_contact(user).await?,
            cached: self.cached_contact(user, now).await?,
        })
    }
    /// Caches the person's chat id until `until`, with their direct conversation if known
    /// (one write after the first DM to a person).
    async fn remember_contact(
        &self,
        user: &str,
        contact: &ChatContact,
        until: DateTime<Utc>,
    ) -> Result<()>;
    /// Where direct messages to `chat_id` go, kept with the person so that no container has
    /// to look it up again (a storm of asks would spend a chat API call before every DM).
    async fn remember_direct(&self, user: &str, chat_id: &str, direct: &str) -> Result<()>;
}

/// See [`Directory::reach`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    pub never_contact: bool,
    pub cached: Option<ChatContact>,
}

/// How to reach a person in chat: their chat id and, once a direct message went through, the
/// conversation it went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatContact {
    pub id: String,
    pub direct: Option<String>,
}

impl ChatContact {
    pub fn new(id: impl Into<String>) -> Self {
        ChatContact {
            id: id.into(),
            direct: None,
        }
    }
}

/// The chat platform (Slack today). Messages are platform-neutral; the adapter renders them.
#[async_trait]
pub trait Chat: Send + Sync {
    /// The chat user id for an email, or `None` when nobody in the workspace has it.
    async fn find_person(&self, email: &str) -> Result<Option<String>>;
    /// A direct message. [`Delivery::Unreachable`] only when this person cannot get one (not
    /// in the workspace any more, deactivated); a broken token or a chat outage is an `Err`.
    /// Posted: the [`ChatRef`]'s channel is the person's direct conversation, worth remembering.
    async fn send_direct(&self, to: &ChatContact, message: &Message) -> Result<Delivery>;
    async fn send_to_channel(&self, channel: &str, message: &Message) -> Result<ChatRef>;
    async fn update(&self, at: &ChatRef, message: &Message) -> Result<()>;
    /// A reply in the thread of an earlier message.
    async fn send_reply(&self, to: &ChatRef, message: &Message) -> Result<ChatRef>;
    /// Opens the Yes form (explanation, code, snooze) in answer to a click.
    async fn open_answer_form(&self, trigger: &str, form: &AnswerForm) -> Result<()>;
    /// A message only `chat_user` sees.
    async fn whisper(&self, channel: &str, chat_user: &str, text: &str) -> Result<()>;
    /// The email of a chat user, if the workspace shares it.
    async fn email_of(&self, chat_user: &str) -> Result<Option<String>>;
    /// Shows the person's Home tab: where they stand with two-factor.
    async fn show_home(&self, chat_user: &str, enrolled: bool) -> Result<()>;
    /// Opens the enrollment form: the secret to add to an authenticator app, and a code field.
    async fn open_enrollment_form(&self, trigger: &str, otpauth_uri: &str) -> Result<()>;
    /// Whether the bot can do its job: its credential works and may do what the bot does, it
    /// can post in the security channel, and the team's ids are people in the workspace.
    async fn check(&self, security_channel: &str, team: &[String]) -> Result<ChatCheck>;
}

/// What [`Chat::check`] found: each problem says what to fix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatCheck {
    /// Who the bot is, where ("@securitybot in Acme").
    pub connected_as: Option<String>,
    pub problems: Vec<String>,
    /// What could not be checked, and why.
    pub unchecked: Vec<String>,
}

/// What became of a direct message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Posted(ChatRef),
    /// The person cannot be reached in chat; the platform's reason, for the log.
    Unreachable(String),
}

/// Why a request was not taken as coming from the chat platform. Safe to log and to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unverified {
    /// No signing secret is configured.
    NotConfigured,
    /// A header is missing or not in the platform's form; says which.
    Malformed(&'static str),
    /// The request's timestamp is outside the replay window.
    Expired,
    /// Signed, but not with the secret we hold (or the body was changed).
    Mismatch,
}

impl Unverified {
    pub fn message(self) -> &'static str {
        match self {
            Unverified::NotConfigured => "no slack_signing_secret is configured",
            Unverified::Malformed(what) => what,
            Unverified::Expired => "the request is older than 5 minutes (or from the future)",
            Unverified::Mismatch => "the signature does not match",
        }
    }
}

/// The chat platform's side of the interaction endpoint: proving a request came from it,
/// reading what the person did, and shaping our answer in the platform's terms.
pub trait ChatRequests: Send + Sync {
    /// Checks the request's signature (header names lower-case) with the signing secret in `secrets`.
    fn verify(
        &self,
        secrets: &Secrets,
        headers: &HashMap<String, String>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> std::result::Result<(), Unverified>;
    /// What the platform sent; `Err` names what is wrong with the body.
    fn read(&self, body: &[u8]) -> std::result::Result<Inbound, String>;
    /// The response body for a reply (`None`: an empty 200).
    fn reply_body(&self, reply: &Reply) -> Option<serde_json::Value>;
}

/// The form a Yes opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerForm {
    pub alert_id: AlertId,
    pub title: String,
    pub needs_code: bool,
    /// The proof is a push sent once the form is submitted (the form says so).
    pub push_follows: bool,
    /// Snooze lengths to offer, in minutes (empty: no snooze choice).
    pub snooze_choices: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    Valid,
    Invalid,
    /// A code that was already used (replay).
    Replayed,
    /// No enrollment that can take a code (none, a setup never finished, a rejected one).
    NotEnrolled,
    /// Too many codes tried for this person in the last hour.
    LockedOut,
}

impl Verification {
    /// Its name in metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Verification::Valid => "verified",
            Verification::Invalid => "wrong_code",
            Verification::Replayed => "replayed_code",
            Verification::NotEnrolled => "not_enrolled",
            Verification::LockedOut => "locked_out",
        }
    }
}

/// What re-sealing the seeds did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resealed {
    pub resealed: usize,
    pub already_current: usize,
    /// People whose seed no key in the secret opens (their key was dropped too early).
    pub failed: Vec<String>,
}

/// What became of a setup's first code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupCheck {
    /// The app has the seed; the enrollment now waits to be vouched for.
    Confirmed,
    WrongCode,
    /// No setup in progress (reset meanwhile, or already confirmed).
    NoSetup,
    LockedOut,
}

/// The second factor (TOTP today). Only [`crate::core::enrollment::vouches_for`] decides
/// whether an enrollment may verify a Yes; this stores enrollments and checks codes.
/// Every code check first reserves one of the person's attempts for the hour, atomically, so
/// codes submitted at once cannot try more than the limit.
#[async_trait]
pub trait SecondFactor: Send + Sync {
    async fn enrollment(&self, user: &str) -> Result<Option<Enrollment>>;
    /// Checks a code of an enrollment that is awaiting approval or active.
    async fn verify(&self, user: &str, code: &str, now: DateTime<Utc>) -> Result<Verification>;
    /// Self-service: a new seed, stored as a setup (a setup whose first code never came is
    /// replaced). Returns the otpauth URI to show once, or `None` when an enrollment exists
    /// beyond setup (only an operator's reset allows a new one).
    async fn start_setup(&self, user: &str, now: DateTime<Utc>) -> Result<Option<String>>;
    /// The setup's first code. On success the enrollment awaits approval, and becomes active
    /// by itself at `active_from` if given (cooling-off).
    async fn confirm_setup(
        &self,
        user: &str,
        code: &str,
        now: DateTime<Utc>,
        active_from: Option<DateTime<Utc>>,
    ) -> Result<SetupCheck>;
    /// An operator's enrollment: active at once, vouched for by `by`. `None` when one exists.
    async fn enroll_vouched(
        &self,
        user: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>>;
    /// A team member's decision on an enrollment awaiting approval (approve: active from
    /// `now`; reject: the seed is dropped). False when there was none waiting.
    async fn decide(&self, user: &str, approve: bool, by: &str, now: DateTime<Utc>)
    -> Result<bool>;
    async fn reset(&self, user: &str) -> Result<()>;
    /// Seals every stored seed again under the current key (after a key rotation).
    async fn reseal_all(&self) -> Result<Resealed>;
    /// People whose enrollment became active in `[start, end)` (approved or made by an operator).
    async fn enrolled_between(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<String>>;
}

/// Whether a person can be sent a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushReady {
    Ready,
    /// No push can prove this person (unknown to the provider, not enrolled there, no device
    /// that takes pushes, or a bypass that proves nothing); why, in words for the team.
    Unavailable(String),
}

/// What became of a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// Still on the phone, unanswered.
    Waiting,
    Approved,
    /// The person pressed Deny.
    Denied,
    /// The person reported the push as fraudulent.
    ReportedFraud,
    /// Nobody answered in the provider's time.
    Expired,
    /// Refused by the provider itself, not by the person (locked out, a policy); its words.
    Refused(String),
}

impl PushOutcome {
    /// Its name in metrics.
    pub fn name(&self) -> &'static str {
        match self {
            PushOutcome::Waiting => "push_waiting",
            PushOutcome::Approved => "push_approved",
            PushOutcome::Denied => "push_denied",
            PushOutcome::ReportedFraud => "push_fraud",
            PushOutcome::Expired => "push_expired",
            PushOutcome::Refused(_) => "push_refused",
        }
    }
}

/// What the push shows on the phone, so the person knows what they approve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushPrompt {
    pub alert_id: AlertId,
    pub title: String,
}

/// A second factor proven by approving a push on a device the person already has (Duo today;
/// Okta Verify would be one more adapter: its factor list says whether a push is possible,
/// a verify call starts one, and its transaction poll says what became of it). The provider
/// owns enrollment, so what counts as enrolled is the provider's word at the time of the Yes.
/// Sending and asking never wait for the person: the waiting happens on the work queue.
#[async_trait]
pub trait PushFactor: Send + Sync {
    async fn ready(&self, user: &str) -> Result<PushReady>;
    /// Sends a push; the provider's id for it.
    async fn push(&self, user: &str, prompt: &PushPrompt) -> Result<String>;
    /// Asks, without waiting for the person, what became of a push.
    async fn outcome(&self, push_id: &str) -> Result<PushOutcome>;
}

/// Whether a once-only job (a rollup post, a poller run) may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Ours until the lease runs out: do it, then complete or release.
    Taken,
    /// Another run holds it right now.
    Held,
    /// Already done.
    Done,
}

/// Small named records that outlive one run: poller checkpoints, once-only markers.
#[async_trait]
pub trait Checkpoints: Send + Sync {
    async fn read(&self, name: &str) -> Result<Option<String>>;
    async fn write(&self, name: &str, value: &str) -> Result<()>;
    async fn claim(&self, name: &str, now: DateTime<Utc>, lease: chrono::Duration)
    -> Result<Claim>;
    /// Marks the claimed job done for good (kept until `keep_until`), with a note for operators.
    async fn complete(&self, name: &str, note: &str, keep_until: DateTime<Utc>) -> Result<()>;
    /// Gives the claim back so the next run need not wait out the lease.
    async fn release(&self, name: &str) -> Result<()>;
}

/// Write-backs that failed, kept with their content, so an operator can send them again after
/// the stream (24 hours) and its dead-letter positions have expired.
#[async_trait]
pub trait FailedWritebacks: Send + Sync {
    /// Keeps (or refreshes) a failed event until `until`, with the error in words.
    async fn keep(&self, event: &AnswerEvent, error: &str, until: DateTime<Utc>) -> Result<()>;
    /// Every failed event not yet resolved.
    async fn pending(&self) -> Result<Vec<AnswerEvent>>;
    /// Takes it off the pending list, with a note for operators.
    async fn resolved(&self, event_id: &str, note: &str) -> Result<()>;
}

#[async_trait]
pub trait WorkQueue: Send + Sync {
    async fn send(&self, item: &WorkItem) -> Result<()>;
    /// Puts `item` on the queue again, to be delivered after `seconds` (at most 15 minutes).
    async fn send_later(&self, item: &WorkItem, seconds: u64) -> Result<()>;
    /// Queues a post to the security team about a person (see [`Announcement`]).
    async fn announce(&self, announcement: &Announcement) -> Result<()>;
    /// Makes a received item that failed come back after `seconds` rather than the queue's
    /// default (a rate limit said when). `receipt` identifies that delivery of the item.
    async fn retry_after(&self, receipt: &str, seconds: u64) -> Result<()>;
}

/// The secret as stored: read fresh on every call (the cache is a [`SecretStore`]).
#[async_trait]
pub trait SecretSource: Send + Sync {
    async fn fetch(&self) -> Result<Secrets>;
}

/// The secret as functions use it: read once per container, re-read (rate-limited) when a
/// credential is refused, so rotating a key needs no redeploy.
#[async_trait]
pub trait SecretStore: Send + Sync {
    async fn get(&self) -> Result<Arc<Secrets>>;
    /// Re-reads the secret unless that happened moments ago; returns what is current.
    async fn refresh(&self) -> Result<Arc<Secrets>>;
}

/// One page of a pulled source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedPage {
    pub items: Vec<serde_json::Value>,
    /// The cursor of the next page of the same window; `None` on its last page.
    pub next: Option<serde_json::Value>,
}

/// A SIEM that cannot push: Splunk's export API, an Elastic search, a JSON endpoint.
#[async_trait]
pub trait AlertFeed: Send + Sync {
    /// The items of `window` after the cursor `after` (from the first one when `None`), oldest first.
    async fn page(&self, window: &Window, after: Option<&serde_json::Value>) -> Result<FeedPage>;
}

/// Where answers go back to: the SIEM (Splunk HEC, a signed webhook).
#[async_trait]
pub trait SiemSink: Send + Sync {
    /// Its name in metrics (`splunk_hec`, `webhook`).
    fn name(&self) -> &'static str;
    async fn send(&self, event: &AnswerEvent) -> Result<()>;
}

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// A configuration document an operator edits in the console (the rules file), by version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigDocument {
    pub version: String,
    pub text: String,
}

#[async_trait]
pub trait ConfigStore: Send + Sync {
    async fn read(&self) -> Result<ConfigDocument>;
}

/// Checks a candidate configuration document as every function would read it, and says what
/// it would change against the one in force (one line per change).
pub trait ConfigCheck: Send + Sync {
    fn check(&self, candidate: &str) -> Result<Vec<String>>;
}

/// Where counted events go (CloudWatch, through EMF log lines). Never fails and never blocks
/// the work: a metric lost is a gap in a graph, not an alert lost.
pub trait Metrics: Send + Sync {
    fn record(&self, metric: crate::core::metrics::Metric<'_>);
}

/// Admission of an alert exactly as the webhook does it, for use cases that raise an alert
/// themselves (the admin's test alert) without reaching into the intake use case.
#[async_trait]
pub trait AdmitAlert: Send + Sync {
    /// The alert's id and what became of it (`ask`, `escalate`, `snoozed`, `duplicate`).
    async fn admit_alert(
        &self,
        alert: &crate::core::alert::Alert,
        raw: String,
        via: &str,
    ) -> Result<(AlertId, String)>;
}
