//! Slack allows about one message per second per channel: posts to one channel (the security
//! channel during an escalation storm) are spaced so, rather than answered with 429s.

use std::collections::HashMap;
use std::time::{Duration, Instant};

pub const PER_CHANNEL: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub struct Pacer {
    next: HashMap<String, Instant>,
}

impl Pacer {
    /// How long to wait before posting to `channel` at `now`; books the slot.
    pub fn wait(&mut self, channel: &str, now: Instant) -> Duration {
        let slot = self
            .next
            .get(channel)
            .copied()
            .filter(|next| *next > now)
            .unwrap_or(now);
        self.next.insert(channel.to_string(), slot + PER_CHANNEL);
        slot - now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posts_to_one_channel_are_a_second_apart_others_are_free() {
        let mut pacer = Pacer::default();
        let t = Instant::now();
        assert_eq!(pacer.wait("CSEC", t), Duration::ZERO);
        assert_eq!(pacer.wait("CSEC", t), PER_CHANNEL);
        assert_eq!(pacer.wait("CSEC", t), 2 * PER_CHANNEL, "booked in order");
        assert_eq!(pacer.wait("DALICE", t), Duration::ZERO);
        assert_eq!(pacer.wait("CSEC", t + 5 * PER_CHANNEL), Duration::ZERO);
    }
}
