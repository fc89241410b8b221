//! TOTP itself, with no storage: RFC 6238 (SHA-1, 6 digits, 30 s steps, one step of skew either
//! way) over totp-rs, and sealing seeds at rest with XChaCha20-Poly1305 under the key in the
//! secret, the person's email as associated data (a sealed seed cannot be moved to someone
//! else). Replay protection is the caller's: [`check`] returns the time step a code belongs
//! to, and a step may be accepted once. The people table stores the result
//! (`dynamodb::people::second_factor`).

use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};

pub const ISSUER: &str = "Securitybot";
const NONCE_LEN: usize = 24;

/// The seed-encryption key (`seed_encryption_key` in the secret: 32 bytes, base64).
pub struct SeedKey(XChaCha20Poly1305);

impl SeedKey {
    pub fn from_base64(key: &str) -> Result<Self> {
        let bytes = B64.decode(key.trim()).ok().filter(|k| k.len() == 32);
        let bytes = bytes.ok_or_else(|| {
            Error::Config(
                "seed_encryption_key must be 32 bytes, base64-encoded (openssl rand -base64 32)"
                    .into(),
            )
        })?;
        Ok(SeedKey(
            XChaCha20Poly1305::new_from_slice(&bytes).expect("32-byte key"),
        ))
    }

    /// The seed sealed for `user`: base64 of nonce + ciphertext.
    pub fn seal(&self, user: &str, seed: &[u8]) -> Result<String> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .0
            .encrypt(
                &nonce,
                Payload {
                    msg: seed,
                    aad: user.as_bytes(),
                },
            )
            .map_err(|_| Error::permanent("totp", "seed encryption failed"))?;
        let mut sealed = nonce.to_vec();
        sealed.extend(ciphertext);
        Ok(B64.encode(sealed))
    }

    /// The seed sealed for `user`; an error if it was sealed for someone else, under another
    /// key, or changed.
    pub fn open(&self, user: &str, sealed: &str) -> Result<Vec<u8>> {
        let sealed = B64
            .decode(sealed)
            .map_err(|_| Error::permanent("totp", "stored seed is not base64"))?;
        if sealed.len() < NONCE_LEN {
            return Err(Error::permanent("totp", "stored seed is too short"));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        self.0
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: user.as_bytes() })
            .map_err(|_| Error::permanent("totp", "the stored seed does not decrypt under seed_encryption_key (was the key changed?)"))
    }
}

fn totp(seed: Option<Vec<u8>>, user: &str) -> Result<totp_rs::Totp> {
    let builder = totp_rs::Builder::new()
        .with_account_name(user.replace(':', "_"))
        .with_issuer(Some(ISSUER.to_string()));
    let builder = match seed {
        Some(seed) => builder.with_secret(seed),
        None => builder,
    };
    builder
        .build()
        .map_err(|e| Error::permanent("totp", format!("cannot build TOTP: {e:?}")))
}

/// A fresh random seed for `user`, and the otpauth URI to show them once.
pub fn new_seed(user: &str) -> Result<(Vec<u8>, String)> {
    let totp = totp(None, user)?;
    let uri = totp
        .to_url()
        .map_err(|e| Error::permanent("totp", format!("cannot build the otpauth URI: {e:?}")))?;
    Ok((totp.secret().as_ref().to_vec(), uri))
}

/// The time step `code` is valid for at `now` (one step of skew either way), or `None`.
/// White space in the code is ignored (apps show "123 456").
pub fn check(seed: Vec<u8>, user: &str, code: &str, now: DateTime<Utc>) -> Result<Option<u64>> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    Ok(totp(Some(seed), user)?.check(&code, now.timestamp().max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // 32 bytes

    fn code_at(seed: &[u8], t: DateTime<Utc>) -> String {
        totp(Some(seed.to_vec()), "a@example.com")
            .unwrap()
            .generate(t.timestamp() as u64)
            .to_string()
    }

    #[test]
    fn a_sealed_seed_opens_only_for_its_person_under_its_key() {
        let key = SeedKey::from_base64(KEY).unwrap();
        let sealed = key
            .seal("alice@example.com", b"seed-bytes-0123456789")
            .unwrap();
        assert_eq!(
            key.open("alice@example.com", &sealed).unwrap(),
            b"seed-bytes-0123456789"
        );
        assert!(
            key.open("mallory@example.com", &sealed).is_err(),
            "AAD binds the person"
        );
        let other = SeedKey::from_base64(&B64.encode([7u8; 32])).unwrap();
        assert!(
            other.open("alice@example.com", &sealed).is_err(),
            "another key"
        );
        assert!(!sealed.contains("seed-bytes"), "never stored in the clear");
        assert_ne!(
            sealed,
            key.seal("alice@example.com", b"seed-bytes-0123456789")
                .unwrap(),
            "fresh nonce"
        );
        assert!(
            key.open("alice@example.com", "bm9wZQ==").is_err(),
            "too short"
        );
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(SeedKey::from_base64("c2hvcnQ=").is_err());
        assert!(SeedKey::from_base64("not base64!").is_err());
    }

    #[test]
    fn codes_belong_to_a_step_with_one_step_of_skew() {
        let (seed, uri) = new_seed("a@example.com").unwrap();
        assert!(
            uri.starts_with("otpauth://totp/Securitybot:a%40example.com?"),
            "{uri}"
        );
        let now = Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 15).unwrap();
        let step = (now.timestamp() / 30) as u64;
        let current = code_at(&seed, now);
        assert_eq!(
            check(seed.clone(), "a@example.com", &current, now).unwrap(),
            Some(step)
        );
        let spaced = format!("{} {}", &current[..3], &current[3..]);
        assert_eq!(
            check(seed.clone(), "a@example.com", &spaced, now).unwrap(),
            Some(step)
        );
        let previous = code_at(&seed, now - chrono::Duration::seconds(30));
        assert_eq!(
            check(seed.clone(), "a@example.com", &previous, now).unwrap(),
            Some(step - 1),
            "the step before still counts (clock skew), as its own step"
        );
        let stale = code_at(&seed, now - chrono::Duration::seconds(90));
        assert_eq!(
            check(seed.clone(), "a@example.com", &stale, now).unwrap(),
            None
        );
        assert_eq!(check(seed, "a@example.com", "000000x", now).unwrap(), None);
    }
}
