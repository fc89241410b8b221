//! The pure core: no I/O, no clocks, no AWS. Everything here is decided from its arguments.

pub mod admission;
pub mod alert;
pub mod answer_event;
pub mod enrollment;
pub mod http;
pub mod identity;
pub mod interaction;
pub mod links;
pub mod messages;
pub mod metrics;
pub mod poll;
pub mod record;
pub mod redact;
pub mod rollup;
pub mod rules;
pub mod secrets;
pub mod signing;
pub mod snooze;
pub mod state;
pub mod text;
pub mod transition;
pub mod work;
pub mod working_hours;
