//! Securitybot: asks employees "was this you?" about security alerts.
//!
//! Read top-down:
//! - [`core`]: the pure domain (alerts, lifecycle, rules, snoozes, redaction). No I/O.
//! - [`intake`]: turning webhook bodies into admitted alerts (auth, formats, admission).
//! - [`ports`]: the traits the core needs from the outside world.
//! - [`adapters`]: DynamoDB, SQS, Secrets Manager (and in-memory twins for tests).
//! - [`conversation`], [`reporting`], [`writeback`]: the use cases the functions run.
//! - [`config`], [`secrets`]: per-cold-start wiring helpers.

pub mod adapters;
pub mod config;
pub mod conversation;
pub mod core;
pub mod error;
pub mod intake;
pub mod local;
pub mod ports;
pub mod reporting;
pub mod secrets;
pub mod wiring;
pub mod writeback;

pub use error::{Error, Result};
