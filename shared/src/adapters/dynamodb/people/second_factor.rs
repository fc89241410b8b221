//! The second factor's state in the people table: the sealed TOTP seed (`adapters::totp` does
//! the crypto); the enrollment (`totp_state`: setup -> awaiting_approval -> active, or
//! rejected; `totp_active_from_epoch`, `totp_vouched_by`); the last accepted time step (a code
//! counts once: the step must grow, in one conditional write); and code attempts per person
//! per hour, reserved before each check (`totp_attempts`, `totp_attempts_since_epoch`).

use super::super::item::{conditional, iso, scan_all};
use crate::adapters::aws_error;
use crate::adapters::totp::{self, SeedKeys};
use crate::core::enrollment::{Enrollment, EnrollmentState};
use crate::error::Result;
use crate::ports::{Resealed, SecondFactor, SecretStore, SetupCheck, Verification};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Arc;

type Item = HashMap<String, AttributeValue>;

pub struct DynamoSecondFactor {
    client: Client,
    table: String,
    secrets: Arc<dyn SecretStore>,
    max_attempts_per_hour: u32,
}

impl DynamoSecondFactor {
    pub fn new(
        client: Client,
        table: impl Into<String>,
        secrets: Arc<dyn SecretStore>,
        max_attempts_per_hour: u32,
    ) -> Self {
        DynamoSecondFactor {
            client,
            table: table.into(),
            secrets,
            max_attempts_per_hour,
        }
    }

    /// The seed keys, read again once when the cached secret cannot open `sealed` (a key
    /// added or made current in Secrets Manager after this container started).
    async fn keys_for(&self, sealed: Option<&str>) -> Result<SeedKeys> {
        match SeedKeys::from_secrets(&*self.secrets.get().await?) {
            Ok(keys) if sealed.is_none_or(|s| keys.can_open(s)) => Ok(keys),
            _ => SeedKeys::from_secrets(&*self.secrets.refresh().await?),
        }
    }

    fn user_key(user: &str) -> AttributeValue {
        AttributeValue::S(user.to_string())
    }

    async fn person(&self, user: &str) -> Result<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("user", Self::user_key(user))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        Ok(out.item)
    }

    /// Takes one of the person's code attempts for the hour, atomically: the first attempt
    /// after the window expired starts a new window; then each adds one while under the limit.
    /// False: the limit is used up (locked out until the window ends).
    async fn reserve_attempt(&self, user: &str, now: DateTime<Utc>) -> Result<bool> {
        let window_start = (now - Duration::hours(1)).timestamp();
        let fresh = self
            .update(user)
            .update_expression("SET totp_attempts = :one, totp_attempts_since_epoch = :now")
            .condition_expression("attribute_not_exists(totp_attempts_since_epoch) OR totp_attempts_since_epoch < :start")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":now", AttributeValue::N(now.timestamp().to_string()))
            .expression_attribute_values(":start", AttributeValue::N(window_start.to_string()))
            .send()
            .await;
        if conditional(fresh)? {
            return Ok(true);
        }
        let more = self
            .update(user)
            .update_expression("ADD totp_attempts :one")
            .condition_expression("totp_attempts < :max")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(
                ":max",
                AttributeValue::N(self.max_attempts_per_hour.to_string()),
            )
            .send()
            .await;
        conditional(more)
    }

    /// Accepts `step` if it is later than the last accepted one (replay protection) and the
    /// seed is still the one checked. False: the step was already used (or the seed changed).
    async fn accept(
        &self,
        user: &str,
        sealed: &str,
        step: u64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let accepted = self
            .update(user)
            .update_expression("SET totp_last_step = :s, totp_attempts = :zero, totp_last_used_at = :t")
            .condition_expression("totp_seed = :seed AND (attribute_not_exists(totp_last_step) OR totp_last_step < :s)")
            .expression_attribute_values(":s", AttributeValue::N(step.to_string()))
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .expression_attribute_values(":t", AttributeValue::S(iso(now)))
            .expression_attribute_values(":seed", AttributeValue::S(sealed.to_string()))
            .send()
            .await;
        conditional(accepted)
    }

    /// Checks a code against the stored seed, after reserving an attempt.
    async fn check(
        &self,
        user: &str,
        sealed: &str,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Checked> {
        if !self.reserve_attempt(user, now).await? {
            return Ok(Checked::LockedOut);
        }
        let seed = self.keys_for(Some(sealed)).await?.open(user, sealed)?;
        Ok(match totp::check(seed, user, code, now)? {
            Some(step) => Checked::Step(step),
            None => Checked::Wrong,
        })
    }

    fn update(&self, user: &str) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("user", Self::user_key(user))
    }

    /// Stores a new sealed seed; the URI to show, or `None` when the person's row does not
    /// allow it. Vouched for (an operator's): only where no seed is stored, active at once.
    /// Self-service: where there is nothing yet, or a setup whose first code never came (the
    /// person lost the seed, or the form never opened), never over an enrollment that got
    /// further or a rejected one.
    async fn store_seed(
        &self,
        user: &str,
        now: DateTime<Utc>,
        vouched_by: Option<&str>,
    ) -> Result<Option<String>> {
        let (seed, uri) = totp::new_seed(user)?;
        let sealed = self.keys_for(None).await?.seal(user, &seed)?;
        let mut update = self
            .update(user)
            .expression_attribute_values(":seed", AttributeValue::S(sealed))
            .expression_attribute_values(":t", AttributeValue::S(iso(now)))
            .expression_attribute_values(":te", AttributeValue::N(now.timestamp().to_string()));
        let set = "SET totp_seed = :seed, totp_state = :state, totp_enrollment_started_at = :t, totp_enrollment_started_at_epoch = :te";
        update = match vouched_by {
            Some(by) => update
                .condition_expression("attribute_not_exists(totp_seed)")
                .update_expression(format!("{set}, totp_active_from = :t, totp_active_from_epoch = :te, totp_vouched_by = :by REMOVE totp_last_step"))
                .expression_attribute_values(":state", AttributeValue::S(EnrollmentState::Active.as_str().into()))
                .expression_attribute_values(":by", AttributeValue::S(by.to_string())),
            None => update
                .condition_expression("attribute_not_exists(totp_state) OR totp_state IN (:state, :pending)")
                .update_expression(format!("{set} REMOVE totp_last_step, totp_active_from, totp_active_from_epoch, totp_vouched_by"))
                .expression_attribute_values(":state", AttributeValue::S(EnrollmentState::Setup.as_str().into()))
                .expression_attribute_values(":pending", AttributeValue::S("pending".into())),
        };
        Ok(conditional(update.send().await)?.then_some(uri))
    }
}

/// A code checked against the seed.
enum Checked {
    Step(u64),
    Wrong,
    LockedOut,
}

fn n(item: &Item, name: &str) -> Option<i64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

fn s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)?.as_s().ok().map(String::as_str)
}

fn time(item: &Item, name: &str) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(n(item, name)?, 0)
}

/// The enrollment a people item holds, if any.
fn enrollment_of(item: &Item) -> Option<Enrollment> {
    let state = EnrollmentState::parse(s(item, "totp_state")?)?;
    if state != EnrollmentState::Rejected && !item.contains_key("totp_seed") {
        return None;
    }
    let started_at = time(item, "totp_enrollment_started_at_epoch").or_else(|| {
        s(item, "totp_enrollment_started_at")?
            .parse::<DateTime<Utc>>()
            .ok()
    });
    // Earlier versions counted an enrollment from its first code (`totp_enrolled_at_epoch`).
    let active_from =
        time(item, "totp_active_from_epoch").or_else(|| time(item, "totp_enrolled_at_epoch"));
    Some(Enrollment {
        state,
        started_at,
        active_from,
        vouched_by: s(item, "totp_vouched_by").map(str::to_string),
    })
}

#[async_trait]
impl SecondFactor for DynamoSecondFactor {
    async fn enrollment(&self, user: &str) -> Result<Option<Enrollment>> {
        Ok(self.person(user).await?.as_ref().and_then(enrollment_of))
    }

    async fn verify(&self, user: &str, code: &str, now: DateTime<Utc>) -> Result<Verification> {
        let Some(item) = self.person(user).await? else {
            return Ok(Verification::NotEnrolled);
        };
        let usable = enrollment_of(&item).is_some_and(|e| {
            matches!(
                e.state,
                EnrollmentState::AwaitingApproval | EnrollmentState::Active
            )
        });
        let Some(sealed) = s(&item, "totp_seed").filter(|_| usable) else {
            return Ok(Verification::NotEnrolled);
        };
        Ok(match self.check(user, sealed, code, now).await? {
            Checked::LockedOut => Verification::LockedOut,
            Checked::Wrong => Verification::Invalid,
            Checked::Step(step) if self.accept(user, sealed, step, now).await? => {
                Verification::Valid
            }
            Checked::Step(_) => Verification::Replayed,
        })
    }

    async fn start_setup(&self, user: &str, now: DateTime<Utc>) -> Result<Option<String>> {
        self.store_seed(user, now, None).await
    }

    async fn confirm_setup(
        &self,
        user: &str,
        code: &str,
        now: DateTime<Utc>,
        active_from: Option<DateTime<Utc>>,
    ) -> Result<SetupCheck> {
        let item = self.person(user).await?;
        let setup = item
            .as_ref()
            .filter(|i| enrollment_of(i).is_some_and(|e| e.state == EnrollmentState::Setup));
        let Some(sealed) = setup.and_then(|i| s(i, "totp_seed")) else {
            return Ok(SetupCheck::NoSetup);
        };
        let step = match self.check(user, sealed, code, now).await? {
            Checked::LockedOut => return Ok(SetupCheck::LockedOut),
            Checked::Wrong => return Ok(SetupCheck::WrongCode),
            Checked::Step(step) => step,
        };
        let mut update = self
            .update(user)
            .condition_expression("totp_seed = :seed AND totp_state IN (:setup, :pending)")
            .expression_attribute_values(":seed", AttributeValue::S(sealed.to_string()))
            .expression_attribute_values(
                ":setup",
                AttributeValue::S(EnrollmentState::Setup.as_str().into()),
            )
            .expression_attribute_values(":pending", AttributeValue::S("pending".into()))
            .expression_attribute_values(
                ":state",
                AttributeValue::S(EnrollmentState::AwaitingApproval.as_str().into()),
            )
            .expression_attribute_values(":s", AttributeValue::N(step.to_string()))
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .expression_attribute_values(":t", AttributeValue::S(iso(now)));
        let set = "SET totp_state = :state, totp_last_step = :s, totp_attempts = :zero, totp_confirmed_at = :t";
        update = match active_from {
            Some(at) => update
                .update_expression(format!("{set}, totp_active_from = :af, totp_active_from_epoch = :afe, totp_vouched_by = :by"))
                .expression_attribute_values(":af", AttributeValue::S(iso(at)))
                .expression_attribute_values(":afe", AttributeValue::N(at.timestamp().to_string()))
                .expression_attribute_values(":by", AttributeValue::S("cooling-off".into())),
            None => update.update_expression(set),
        };
        Ok(if conditional(update.send().await)? {
            SetupCheck::Confirmed
        } else {
            SetupCheck::NoSetup
        })
    }

    async fn enroll_vouched(
        &self,
        user: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>> {
        self.store_seed(user, now, Some(by)).await
    }

    async fn decide(
        &self,
        user: &str,
        approve: bool,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let update = self
            .update(user)
            .condition_expression("totp_state = :awaiting")
            .expression_attribute_values(
                ":awaiting",
                AttributeValue::S(EnrollmentState::AwaitingApproval.as_str().into()),
            )
            .expression_attribute_values(":by", AttributeValue::S(by.to_string()));
        let update = if approve {
            update
                .update_expression("SET totp_state = :active, totp_vouched_by = :by, totp_active_from = :t, totp_active_from_epoch = :te")
                .expression_attribute_values(":active", AttributeValue::S(EnrollmentState::Active.as_str().into()))
                .expression_attribute_values(":t", AttributeValue::S(iso(now)))
                .expression_attribute_values(":te", AttributeValue::N(now.timestamp().to_string()))
        } else {
            update
                .update_expression("SET totp_state = :rejected, totp_vouched_by = :by REMOVE totp_seed, totp_last_step, totp_active_from, totp_active_from_epoch")
                .expression_attribute_values(":rejected", AttributeValue::S(EnrollmentState::Rejected.as_str().into()))
        };
        conditional(update.send().await)
    }

    async fn reset(&self, user: &str) -> Result<()> {
        self.update(user)
            .update_expression("REMOVE totp_seed, totp_state, totp_last_step, totp_attempts, totp_attempts_since_epoch, totp_enrollment_started_at, totp_enrollment_started_at_epoch, totp_confirmed_at, totp_active_from, totp_active_from_epoch, totp_vouched_by, totp_enrolled_at_epoch, totp_failures, totp_failures_since_epoch")
            .send()
            .await
            .map_err(|e| aws_error("dynamodb", e))?;
        Ok(())
    }

    /// Every seed not sealed under the current key is opened and sealed again under it, each
    /// in a conditional write on the seed it read (a seed changed meanwhile is left alone).
    async fn reseal_all(&self) -> Result<Resealed> {
        let keys = self.keys_for(None).await?;
        let items = scan_all(
            self.client
                .scan()
                .table_name(&self.table)
                .filter_expression("attribute_exists(totp_seed)")
                .projection_expression("#user, totp_seed")
                .expression_attribute_names("#user", "user"),
        )
        .await?;
        let mut report = Resealed::default();
        for item in &items {
            let (Some(user), Some(sealed)) = (s(item, "user"), s(item, "totp_seed")) else {
                continue;
            };
            if SeedKeys::key_id(sealed) == keys.current() && sealed.contains(':') {
                report.already_current += 1;
                continue;
            }
            let resealed = match keys.open(user, sealed) {
                Ok(seed) => keys.seal(user, &seed)?,
                Err(e) => {
                    tracing::error!(user, error = %e, "cannot re-seal a seed");
                    report.failed.push(user.to_string());
                    continue;
                }
            };
            let written = self
                .update(user)
                .update_expression("SET totp_seed = :new")
                .condition_expression("totp_seed = :old")
                .expression_attribute_values(":new", AttributeValue::S(resealed))
                .expression_attribute_values(":old", AttributeValue::S(sealed.to_string()))
                .send()
                .await;
            if conditional(written)? {
                report.resealed += 1;
            }
        }
        Ok(report)
    }

    /// Scans the people table (one row per person who ever got an alert: small) once per rollup.
    async fn enrolled_between(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<String>> {
        let items = scan_all(
            self.client
                .scan()
                .table_name(&self.table)
                .filter_expression("totp_active_from_epoch >= :a AND totp_active_from_epoch < :b")
                .projection_expression("#user")
                .expression_attribute_names("#user", "user")
                .expression_attribute_values(":a", AttributeValue::N(start.timestamp().to_string()))
                .expression_attribute_values(":b", AttributeValue::N(end.timestamp().to_string())),
        )
        .await?;
        Ok(items
            .iter()
            .filter_map(|i| i.get("user")?.as_s().ok().cloned())
            .collect())
    }
}
