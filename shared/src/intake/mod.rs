//! Intake: from an HTTP request to admitted alerts.
//! [`webhook`] orchestrates; [`auth`] checks credentials; [`formats`] turns each SIEM's body
//! into alerts; [`admit`] decides and stores each one; [`rejection`] is what bad input gets.
//! [`poll`] pulls from SIEMs that cannot push, into the same [`admit`].

pub mod admit;
pub mod auth;
pub mod formats;
pub mod poll;
pub mod rejection;
pub mod webhook;
