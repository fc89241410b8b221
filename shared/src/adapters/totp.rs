//! TOTP itself, with no storage: RFC 6238 (SHA-1, 6 digits, 30 s steps, one step of skew either
//! way) over totp-rs, and sealing seeds at rest with XChaCha20-Poly1305 under the key in the
//! secret, the person's email as associated data (a sealed seed cannot be moved to someone
//! else). Replay protection is the caller's: [`check`] returns the time step a code belongs
//! to, and a step may be accepted once. The people table stores the result
//! (`dynamodb::people::second_factor`).

use crate::core::secrets::Secrets;
use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};

pub const ISSUER: &str = "Securitybot";
const NONCE_LEN: usize = 24;

/// The seed keys the secret holds, and which one seals new seeds. A sealed seed starts with
/// the id of its key (`<id>:<base64>`), so keys can be rotated: add a key, make it current,
/// re-seal (the admin command `reseal_seeds`), then drop the old one. Seeds sealed before
/// key ids existed carry none and open with the `default` key.
pub struct SeedKeys {
    keys: Vec<(String, SeedKey)>,
    current: String,
}

impl SeedKeys {
    pub fn from_secrets(secrets: &Secrets) -> Result<Self> {
        let keys = secrets
            .seed_keys()
            .into_iter()
            .map(|(id, key)| {
                SeedKey::from_base64(key.expose())
                    .map(|k| (id.clone(), k))
                    .map_err(|_| {
                        Error::Config(format!(
                            "seed key '{id}' must be 32 bytes, base64-encoded (openssl rand -base64 32)"
                        ))
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        let current = secrets
            .seed_encryption_current
            .clone()
            .unwrap_or_else(|| "default".to_string());
        if !keys.iter().any(|(id, _)| *id == current) {
            return Err(Error::Config(format!(
                "the secret has no seed key '{current}' to seal with: add seed_encryption_key, or seed_encryption_keys with that id"
            )));
        }
        Ok(SeedKeys { keys, current })
    }

    pub fn current(&self) -> &str {
        &self.current
    }

    /// The id of the key a sealed seed was sealed under.
    pub fn key_id(sealed: &str) -> &str {
        sealed.split_once(':').map_or("default", |(id, _)| id)
    }

    /// Whether this secret holds the key `sealed` needs.
    pub fn can_open(&self, sealed: &str) -> bool {
        self.keys.iter().any(|(id, _)| id == Self::key_id(sealed))
    }

    pub fn seal(&self, user: &str, seed: &[u8]) -> Result<String> {
        let (id, key) = self
            .keys
            .iter()
            .find(|(id, _)| *id == self.current)
            .expect("checked when built");
        Ok(format!("{id}:{}", key.seal(user, seed)?))
    }

    pub fn open(&self, user: &str, sealed: &str) -> Result<Vec<u8>> {
        let id = Self::key_id(sealed);
        let body = sealed.split_once(':').map_or(sealed, |(_, body)| body);
        let (_, key) = self.keys.iter().find(|(k, _)| k == id).ok_or_else(|| {
            Error::Config(format!(
                "a seed is sealed under key '{id}', which the secret no longer holds: add it back to seed_encryption_keys"
            ))
        })?;
        key.open(user, body)
    }
}

/// One seed-encryption key: 32 bytes, base64.
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

    fn secrets(json: &str) -> Secrets {
        Secrets::from_json(json).unwrap()
    }

    #[test]
    fn seeds_carry_their_key_id_so_keys_rotate() {
        let old = secrets(&format!(r#"{{"seed_encryption_key": "{KEY}"}}"#));
        let k2 = B64.encode([9u8; 32]);
        let both = secrets(&format!(
            r#"{{"seed_encryption_key": "{KEY}", "seed_encryption_keys": [{{"id": "k2", "key": "{k2}"}}], "seed_encryption_current": "k2"}}"#
        ));
        let only_new = secrets(&format!(
            r#"{{"seed_encryption_keys": [{{"id": "k2", "key": "{k2}"}}], "seed_encryption_current": "k2"}}"#
        ));
        let old = SeedKeys::from_secrets(&old).unwrap();
        let both = SeedKeys::from_secrets(&both).unwrap();
        let only_new = SeedKeys::from_secrets(&only_new).unwrap();

        let sealed = old.seal("a@example.com", b"seed").unwrap();
        assert!(sealed.starts_with("default:"));
        // A seed from before key ids existed opens with the default key.
        let legacy = sealed.trim_start_matches("default:");
        assert_eq!(old.open("a@example.com", legacy).unwrap(), b"seed");

        assert_eq!(
            both.open("a@example.com", &sealed).unwrap(),
            b"seed",
            "old keys still open"
        );
        let resealed = both.seal("a@example.com", b"seed").unwrap();
        assert_eq!(SeedKeys::key_id(&resealed), "k2");
        assert_eq!(only_new.open("a@example.com", &resealed).unwrap(), b"seed");
        assert!(!only_new.can_open(&sealed));
        let gone = only_new
            .open("a@example.com", &sealed)
            .unwrap_err()
            .to_string();
        assert!(gone.contains("'default'") && !gone.contains(KEY), "{gone}");
        let bad = secrets(r#"{"seed_encryption_current": "k9"}"#);
        assert!(SeedKeys::from_secrets(&bad).is_err());
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
