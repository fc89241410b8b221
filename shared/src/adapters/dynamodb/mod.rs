//! DynamoDB adapters. Attribute names are chosen to read well in the console; every time is
//! stored twice: ISO-8601 (`*_at`) for people, epoch seconds (`*_at_epoch`) for TTL and indexes.

mod alerts;
mod checkpoints;
mod claims;
mod item;
mod people;
mod snoozes;
pub mod stream;

pub use alerts::DynamoAlerts;
pub use checkpoints::DynamoCheckpoints;
pub use item::scan_all;
pub use people::{DynamoDirectory, DynamoSecondFactor};
pub use snoozes::DynamoSnoozes;

/// Index names as template.yaml defines them (infra's template test checks the template has them).
pub const INDEX_BY_STATUS_DUE: &str = "by_status_due";
pub const INDEX_BY_USER: &str = "by_user";
pub const INDEX_RECEIVED_BY_DAY: &str = "received_by_day";
pub const INDEX_BY_AWAITING_TEAM: &str = "by_awaiting_team";
