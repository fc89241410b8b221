//! The secrets, read from Secrets Manager ([`SecretsManagerSource`], one per purpose) and cached
//! per container ([`SecretsCache`]): read once, re-read when a credential fails, so rotating a
//! key needs no redeploy.

use super::aws_error;
use crate::core::secrets::{SecretPurpose, Secrets};
use crate::error::{Error, Result};
use crate::ports::{SecretSource, SecretStore};
use async_trait::async_trait;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// One purpose's secret. A function given no secret for a purpose (its template grants none)
/// gets a clear error only when a path actually needs it, never at cold start.
pub struct SecretsManagerSource {
    client: aws_sdk_secretsmanager::Client,
    purpose: SecretPurpose,
    secret_id: Option<String>,
}

impl SecretsManagerSource {
    pub fn new(
        client: aws_sdk_secretsmanager::Client,
        purpose: SecretPurpose,
        secret_id: Option<String>,
    ) -> Self {
        SecretsManagerSource {
            client,
            purpose,
            secret_id,
        }
    }
}

#[async_trait]
impl SecretSource for SecretsManagerSource {
    async fn fetch(&self) -> Result<Secrets> {
        let Some(secret_id) = &self.secret_id else {
            return Err(Error::Config(format!(
                "this function is given no {} secret ({} is not set)",
                self.purpose.name(),
                self.purpose.env_var()
            )));
        };
        let out = self
            .client
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(|e| aws_error("secretsmanager", e))?;
        let text = out.secret_string().ok_or_else(|| {
            Error::Config(format!(
                "secret {secret_id} has no SecretString (binary secrets are not supported)"
            ))
        })?;
        Secrets::from_json_for(text, self.purpose)
    }
}

/// Caches the secret per container. `refresh` re-reads it at most once per `min_refresh`, so a
/// flood of bad credentials cannot turn into a flood of Secrets Manager calls; the first
/// refresh after a cold start is always allowed, so a key rotated minutes ago works at once.
pub struct SecretsCache {
    source: Arc<dyn SecretSource>,
    min_refresh: Duration,
    state: RwLock<CacheState>,
}

#[derive(Default)]
struct CacheState {
    secrets: Option<Arc<Secrets>>,
    last_refresh: Option<Instant>,
}

impl SecretsCache {
    pub fn new(source: Arc<dyn SecretSource>, min_refresh: Duration) -> Self {
        SecretsCache {
            source,
            min_refresh,
            state: RwLock::new(CacheState::default()),
        }
    }
}

#[async_trait]
impl SecretStore for SecretsCache {
    async fn get(&self) -> Result<Arc<Secrets>> {
        if let Some(secrets) = &self.state.read().await.secrets {
            return Ok(secrets.clone());
        }
        let mut state = self.state.write().await;
        if let Some(secrets) = &state.secrets {
            return Ok(secrets.clone());
        }
        let secrets = Arc::new(self.source.fetch().await?);
        state.secrets = Some(secrets.clone());
        Ok(secrets)
    }

    /// Re-reads the secret unless a refresh happened within `min_refresh`; returns what is current.
    async fn refresh(&self) -> Result<Arc<Secrets>> {
        let mut state = self.state.write().await;
        if let (Some(secrets), Some(last)) = (&state.secrets, state.last_refresh)
            && last.elapsed() < self.min_refresh
        {
            return Ok(secrets.clone());
        }
        let secrets = Arc::new(self.source.fetch().await?);
        state.secrets = Some(secrets.clone());
        state.last_refresh = Some(Instant::now());
        Ok(secrets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::secrets::SecretString;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(AtomicUsize);

    #[async_trait]
    impl SecretSource for Counting {
        async fn fetch(&self) -> Result<Secrets> {
            let n = self.0.fetch_add(1, Ordering::SeqCst);
            Ok(Secrets {
                webhook_key: Some(SecretString::new(format!("key-{n}"))),
                ..Secrets::default()
            })
        }
    }

    #[tokio::test]
    async fn caches_and_refreshes_no_more_than_allowed() {
        let source = Arc::new(Counting(AtomicUsize::new(0)));
        let cache = SecretsCache::new(source.clone(), Duration::from_secs(3600));
        let first_key = |s: Arc<Secrets>| s.webhook_key.clone().unwrap().expose().to_string();
        assert_eq!(first_key(cache.get().await.unwrap()), "key-0");
        cache.get().await.unwrap();
        assert_eq!(source.0.load(Ordering::SeqCst), 1, "get reuses the cache");
        assert_eq!(
            first_key(cache.refresh().await.unwrap()),
            "key-1",
            "the first refresh re-reads"
        );
        assert_eq!(
            first_key(cache.get().await.unwrap()),
            "key-1",
            "and get sees the new secret"
        );
        cache.refresh().await.unwrap();
        assert_eq!(
            source.0.load(Ordering::SeqCst),
            2,
            "a second refresh within the window reuses the cache"
        );
    }
}
