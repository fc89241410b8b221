//! Intake: from an HTTP request to admitted alerts.
//! [`webhook`] orchestrates; [`auth`] checks credentials; [`formats`] turns each SIEM's body
//! into alerts; [`admit`] decides and stores each one; [`rejection`] is what bad input gets.

pub mod admit;
pub mod auth;
pub mod formats;
pub mod rejection;
pub mod webhook;
