//! A second-factor twin: a person's valid code is whatever the test says, each code counts
//! once (replay), and wrong codes lock a person out after `max_failures` (in this twin, until
//! a reset).

use crate::error::Result;
use crate::ports::{SecondFactor, Verification};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

#[derive(Debug, Clone, Default)]
struct Person {
    code: String,
    /// Enrollment started and awaiting its first valid code.
    pending: bool,
    used: HashSet<String>,
    failures: u32,
    enrolled_at: Option<DateTime<Utc>>,
}

pub struct MemorySecondFactor {
    people: Mutex<HashMap<String, Person>>,
    max_failures: u32,
}

impl MemorySecondFactor {
    pub fn new(max_failures: u32) -> Self {
        MemorySecondFactor {
            people: Mutex::new(HashMap::new()),
            max_failures,
        }
    }

    /// Enrolled (and vouched for), accepting `code`.
    pub fn enrolled(&self, user: &str, code: &str) {
        self.people.lock().unwrap().insert(
            user.to_string(),
            Person {
                code: code.to_string(),
                ..Person::default()
            },
        );
    }

    /// Enrollment started (the seed shown), accepting `code` as the first one.
    pub fn pending(&self, user: &str, code: &str) {
        self.enrolled(user, code);
        self.people.lock().unwrap().get_mut(user).unwrap().pending = true;
    }
}

#[async_trait]
impl SecondFactor for MemorySecondFactor {
    async fn can_verify(&self, user: &str) -> Result<bool> {
        Ok(self.people.lock().unwrap().contains_key(user))
    }

    async fn verify(&self, user: &str, code: &str, now: DateTime<Utc>) -> Result<Verification> {
        let mut people = self.people.lock().unwrap();
        let Some(person) = people.get_mut(user) else {
            return Ok(Verification::NotEnrolled);
        };
        if person.failures >= self.max_failures {
            return Ok(Verification::LockedOut);
        }
        if code != person.code {
            person.failures += 1;
            return Ok(Verification::Invalid);
        }
        if !person.used.insert(code.to_string()) {
            return Ok(Verification::Replayed);
        }
        person.failures = 0;
        if std::mem::take(&mut person.pending) {
            person.enrolled_at = Some(now);
            return Ok(Verification::ValidFirstCode);
        }
        Ok(Verification::Valid)
    }

    async fn enroll(&self, user: &str, now: DateTime<Utc>) -> Result<Option<String>> {
        let mut people = self.people.lock().unwrap();
        if people.contains_key(user) {
            return Ok(None);
        }
        let code = format!("{:06}", now.timestamp() % 1_000_000);
        people.insert(
            user.to_string(),
            Person {
                code,
                pending: true,
                ..Person::default()
            },
        );
        Ok(Some(format!(
            "otpauth://totp/Securitybot:{user}?secret=TWIN"
        )))
    }

    async fn reset(&self, user: &str) -> Result<()> {
        self.people.lock().unwrap().remove(user);
        Ok(())
    }

    async fn enrolled_between(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<String>> {
        let people = self.people.lock().unwrap();
        let mut users: Vec<String> = people
            .iter()
            .filter(|(_, p)| p.enrolled_at.is_some_and(|at| at >= start && at < end))
            .map(|(user, _)| user.clone())
            .collect();
        users.sort();
        Ok(users)
    }
}
