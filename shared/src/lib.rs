//! Securitybot: asks employees "was this you?" about security alerts.
//!
//! Read top-down; each layer imports only the ones below it (checked by `tests/layers.rs`):
//! - [`core`] (and [`error`]): the pure domain: alerts, lifecycle, rules, snoozes, redaction,
//!   messages, rollups, the secret's shape. No I/O. Imports nothing else.
//! - [`ports`]: the traits the use cases need from the outside world, and the two protocols
//!   run over them ([`ports::steps`]). Imports only the core.
//! - [`adapters`]: DynamoDB, SQS, Secrets Manager, Slack, the SIEMs, clocks (and in-memory
//!   twins for tests). Import the core and the ports.
//! - the use cases, each on its own: [`intake`] (webhook and poller into admitted alerts),
//!   [`conversation`] (ask, answers, deadlines), [`reporting`] (rollups), [`writeback`],
//!   [`admin`] (operator commands). Import the core and the ports, never each other.
//! - [`config`], [`wiring`]: per-cold-start settings and the building of all of the above.

pub mod adapters;
pub mod admin;
pub mod config;
pub mod conversation;
pub mod core;
pub mod error;
#[cfg(feature = "function-url")]
pub mod function_url;
pub mod intake;
pub mod ports;
pub mod reporting;
pub mod wiring;
pub mod writeback;

pub use error::{Error, Result};
