//! The one secret, read from Secrets Manager.

use super::aws_error;
use crate::error::{Error, Result};
use crate::ports::SecretSource;
use crate::secrets::Secrets;
use async_trait::async_trait;

pub struct SecretsManagerSource {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
}

impl SecretsManagerSource {
    pub fn new(client: aws_sdk_secretsmanager::Client, secret_id: impl Into<String>) -> Self {
        SecretsManagerSource {
            client,
            secret_id: secret_id.into(),
        }
    }
}

#[async_trait]
impl SecretSource for SecretsManagerSource {
    async fn fetch(&self) -> Result<Secrets> {
        let out = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .send()
            .await
            .map_err(|e| aws_error("secretsmanager", e))?;
        let text = out.secret_string().ok_or_else(|| {
            Error::Config(format!(
                "secret {} has no SecretString (binary secrets are not supported)",
                self.secret_id
            ))
        })?;
        Secrets::from_json(text)
    }
}
