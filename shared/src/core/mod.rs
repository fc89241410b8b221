//! The pure core: no I/O, no clocks, no AWS. Everything here is decided from its arguments.

pub mod admission;
pub mod alert;
pub mod identity;
pub mod messages;
pub mod record;
pub mod redact;
pub mod rollup;
pub mod rules;
pub mod snooze;
pub mod state;
pub mod transition;
pub mod work;
pub mod working_hours;
