//! The conversation with people: asking them ([`notifier`]), acting on their answers and the
//! team's buttons ([`answers`]) as they arrive at the interaction endpoint ([`endpoint`]), and
//! the clock's side: reminders and deadlines ([`deadlines`]). Platform-neutral: the chat
//! adapter turns requests into a [`crate::core::interaction::Interaction`] and renders the reply.

pub mod answers;
pub mod deadlines;
pub mod endpoint;
mod enrollment;
pub mod notifier;
mod outcome;
pub mod push;

#[cfg(test)]
mod tests;
