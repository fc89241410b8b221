//! Pulled sources, as data: where a poller pulls from ([`source`]) and where it stands in a
//! source's timeline ([`position`]). The run itself is `intake::poll`; the SIEM clients are
//! `adapters::feeds`.

pub mod position;
pub mod source;

pub use position::{Position, Window};
pub use source::{ItemMapping, PollKind, PollSource};
