//! The rules document, kept in a Secrets Manager secret: edited in the console (with
//! versions to roll back to, and CloudTrail naming who changed it), served by moto locally,
//! up to 64 KB (the bundled file is already over SSM's 4 KB standard tier), and read with a
//! client every function already has.

use super::aws_error;
use crate::error::{Error, Result};
use crate::ports::{ConfigDocument, ConfigStore};
use async_trait::async_trait;

pub struct SecretsManagerConfig {
    client: aws_sdk_secretsmanager::Client,
    id: String,
}

impl SecretsManagerConfig {
    pub fn new(client: aws_sdk_secretsmanager::Client, id: impl Into<String>) -> Self {
        SecretsManagerConfig {
            client,
            id: id.into(),
        }
    }
}

#[async_trait]
impl ConfigStore for SecretsManagerConfig {
    async fn read(&self) -> Result<ConfigDocument> {
        let out = self
            .client
            .get_secret_value()
            .secret_id(&self.id)
            .send()
            .await
            .map_err(|e| aws_error("secretsmanager", e))?;
        Ok(ConfigDocument {
            version: out.version_id().unwrap_or_default().to_string(),
            text: out
                .secret_string()
                .ok_or_else(|| Error::Config(format!("{} holds no text", self.id)))?
                .to_string(),
        })
    }
}
