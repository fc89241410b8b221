//! Rollups: what happened in an hour or a day, for the security team. Pure: the period a
//! schedule tick closes, the tally of the alerts received in it, and the message that says so.

pub mod message;
pub mod period;
pub mod tally;

pub use message::digest_message;
pub use period::{Cadence, Period};
pub use tally::{Counter, Digest, OpenEscalation, Outcome, RuleRow, Tally};
