//! Reporting to the security team on a schedule: the hourly and daily rollups.

pub mod rollups;
