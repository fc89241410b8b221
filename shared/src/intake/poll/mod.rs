//! Pulling alerts from SIEMs that cannot push, on a schedule: each source's window is read a
//! page at a time and every item goes through the webhook's own admission ([`Intake::admit`]),
//! so a pulled alert gets the same id, dedupe, snooze and routing as a pushed one.
//!
//! [`Intake::admit`]: crate::intake::admit::Intake::admit

pub mod items;
pub mod poller;

pub use crate::core::poll::{ItemMapping, PollKind, PollSource, Position, Window};
pub use poller::{Feed, PollReport, Poller};
