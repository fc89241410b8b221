//! How Securitybot signs a body, both ways: SIEMs sign what they post to our webhook, and our
//! write-back webhook signs what it posts to theirs.
//! `X-Securitybot-Signature: v1=<hex HMAC-SHA256(key, "v1:" + timestamp + ":" + body)>` with
//! `X-Securitybot-Timestamp: <unix seconds>`.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "x-securitybot-signature";
pub const TIMESTAMP_HEADER: &str = "x-securitybot-timestamp";

/// The signature a sender computes; public so tests and tools sign exactly as documented.
pub fn sign(key: &[u8], timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(b"v1:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// The header value: `v1=<hex>`.
pub fn signature_header(key: &[u8], timestamp: &str, body: &[u8]) -> String {
    format!("v1={}", hex::encode(sign(key, timestamp, body)))
}
