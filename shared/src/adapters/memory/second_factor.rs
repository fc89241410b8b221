//! A second-factor twin with the real one's rules: a person's valid code is whatever the test
//! says (or, for a setup, the last six digits of its start time), each code counts once
//! (replay), every check first reserves one of `max_attempts` (no hourly window here: a
//! person locked out stays so until a reset), enrollments go setup -> awaiting approval ->
//! active or rejected.

use crate::core::enrollment::{Enrollment, EnrollmentState};
use crate::error::Result;
use crate::ports::{Resealed, SecondFactor, SetupCheck, Verification};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

#[derive(Debug, Clone)]
struct Person {
    code: String,
    enrollment: Enrollment,
    used: HashSet<String>,
    attempts: u32,
}

pub struct MemorySecondFactor {
    people: Mutex<HashMap<String, Person>>,
    max_attempts: u32,
}

/// The code a setup started at `now` accepts.
pub fn setup_code(now: DateTime<Utc>) -> String {
    format!("{:06}", now.timestamp() % 1_000_000)
}

impl Person {
    fn new(code: String, enrollment: Enrollment) -> Self {
        Person {
            code,
            enrollment,
            used: HashSet::new(),
            attempts: 0,
        }
    }
}

/// An enrollment started at `at` in `state`, vouched for by `by` from then on if given.
fn started(state: EnrollmentState, at: DateTime<Utc>, by: Option<&str>) -> Enrollment {
    Enrollment {
        state,
        started_at: Some(at),
        active_from: by.map(|_| at),
        vouched_by: by.map(str::to_string),
    }
}

impl MemorySecondFactor {
    pub fn new(max_attempts: u32) -> Self {
        MemorySecondFactor {
            people: Mutex::new(HashMap::new()),
            max_attempts,
        }
    }

    fn put(
        &self,
        user: &str,
        code: &str,
        state: EnrollmentState,
        active_from: Option<DateTime<Utc>>,
    ) {
        let enrollment = Enrollment {
            state,
            started_at: None,
            active_from,
            vouched_by: active_from.map(|_| "operator:test".to_string()),
        };
        self.people
            .lock()
            .unwrap()
            .insert(user.to_string(), Person::new(code.to_string(), enrollment));
    }

    /// Enrolled and vouched for long ago, accepting `code`.
    pub fn enrolled(&self, user: &str, code: &str) {
        self.put(
            user,
            code,
            EnrollmentState::Active,
            Some(DateTime::UNIX_EPOCH),
        );
    }

    /// Enrolled and active from `from`, accepting `code`.
    pub fn active_from(&self, user: &str, code: &str, from: DateTime<Utc>) {
        self.put(user, code, EnrollmentState::Active, Some(from));
    }

    /// Set up by the person (first code entered), waiting for the team, accepting `code`.
    pub fn awaiting_approval(&self, user: &str, code: &str) {
        self.put(user, code, EnrollmentState::AwaitingApproval, None);
    }

    /// The code the person's app shows now (a later time step).
    pub fn set_code(&self, user: &str, code: &str) {
        if let Some(p) = self.people.lock().unwrap().get_mut(user) {
            p.code = code.to_string();
        }
    }

    /// Takes an attempt; false when they are used up.
    fn reserve(&self, person: &mut Person) -> bool {
        if person.attempts >= self.max_attempts {
            return false;
        }
        person.attempts += 1;
        true
    }
}

#[async_trait]
impl SecondFactor for MemorySecondFactor {
    async fn enrollment(&self, user: &str) -> Result<Option<Enrollment>> {
        Ok(self
            .people
            .lock()
            .unwrap()
            .get(user)
            .map(|p| p.enrollment.clone()))
    }

    async fn verify(&self, user: &str, code: &str, _now: DateTime<Utc>) -> Result<Verification> {
        let mut people = self.people.lock().unwrap();
        let Some(person) = people.get_mut(user).filter(|p| {
            matches!(
                p.enrollment.state,
                EnrollmentState::AwaitingApproval | EnrollmentState::Active
            )
        }) else {
            return Ok(Verification::NotEnrolled);
        };
        if !self.reserve(person) {
            return Ok(Verification::LockedOut);
        }
        if code != person.code {
            return Ok(Verification::Invalid);
        }
        if !person.used.insert(code.to_string()) {
            return Ok(Verification::Replayed);
        }
        person.attempts = 0;
        Ok(Verification::Valid)
    }

    async fn start_setup(&self, user: &str, now: DateTime<Utc>) -> Result<Option<String>> {
        let mut people = self.people.lock().unwrap();
        if people
            .get(user)
            .is_some_and(|p| p.enrollment.state != EnrollmentState::Setup)
        {
            return Ok(None);
        }
        let person = Person::new(setup_code(now), started(EnrollmentState::Setup, now, None));
        people.insert(user.to_string(), person);
        Ok(Some(format!(
            "otpauth://totp/Securitybot:{user}?secret=TWIN{}",
            now.timestamp()
        )))
    }

    async fn confirm_setup(
        &self,
        user: &str,
        code: &str,
        _now: DateTime<Utc>,
        active_from: Option<DateTime<Utc>>,
    ) -> Result<SetupCheck> {
        let mut people = self.people.lock().unwrap();
        let Some(person) = people
            .get_mut(user)
            .filter(|p| p.enrollment.state == EnrollmentState::Setup)
        else {
            return Ok(SetupCheck::NoSetup);
        };
        if !self.reserve(person) {
            return Ok(SetupCheck::LockedOut);
        }
        if code != person.code {
            return Ok(SetupCheck::WrongCode);
        }
        person.used.insert(code.to_string());
        person.attempts = 0;
        person.enrollment.state = EnrollmentState::AwaitingApproval;
        person.enrollment.active_from = active_from;
        person.enrollment.vouched_by = active_from.map(|_| "cooling-off".to_string());
        Ok(SetupCheck::Confirmed)
    }

    async fn enroll_vouched(
        &self,
        user: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>> {
        let mut people = self.people.lock().unwrap();
        if people
            .get(user)
            .is_some_and(|p| p.enrollment.state != EnrollmentState::Rejected)
        {
            return Ok(None);
        }
        let person = Person::new(
            setup_code(now),
            started(EnrollmentState::Active, now, Some(by)),
        );
        people.insert(user.to_string(), person);
        Ok(Some(format!(
            "otpauth://totp/Securitybot:{user}?secret=TWIN{}",
            now.timestamp()
        )))
    }

    async fn decide(
        &self,
        user: &str,
        approve: bool,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut people = self.people.lock().unwrap();
        let Some(person) = people
            .get_mut(user)
            .filter(|p| p.enrollment.state == EnrollmentState::AwaitingApproval)
        else {
            return Ok(false);
        };
        let e = &mut person.enrollment;
        e.vouched_by = Some(by.to_string());
        if approve {
            e.state = EnrollmentState::Active;
            e.active_from = Some(now);
        } else {
            e.state = EnrollmentState::Rejected;
            e.active_from = None;
        }
        Ok(true)
    }

    async fn reset(&self, user: &str) -> Result<()> {
        self.people.lock().unwrap().remove(user);
        Ok(())
    }

    /// The twin keeps no sealed seeds: nothing to re-seal.
    async fn reseal_all(&self) -> Result<Resealed> {
        Ok(Resealed {
            already_current: self.people.lock().unwrap().len(),
            ..Resealed::default()
        })
    }

    async fn enrolled_between(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<String>> {
        let people = self.people.lock().unwrap();
        let mut users: Vec<String> = people
            .iter()
            .filter(|(_, p)| {
                p.enrollment.state != EnrollmentState::Rejected
                    && p.enrollment
                        .active_from
                        .is_some_and(|at| at >= start && at < end)
            })
            .map(|(user, _)| user.clone())
            .collect();
        users.sort();
        Ok(users)
    }
}
