//! The work queue on SQS.

use super::aws_error;
use crate::core::work::{Announcement, WorkItem};
use crate::error::Result;
use crate::ports::WorkQueue;
use async_trait::async_trait;

pub struct SqsWorkQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsWorkQueue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        SqsWorkQueue {
            client,
            queue_url: queue_url.into(),
        }
    }

    async fn put(&self, body: String) -> Result<()> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| aws_error("sqs", e))?;
        Ok(())
    }
}

#[async_trait]
impl WorkQueue for SqsWorkQueue {
    async fn send(&self, item: &WorkItem) -> Result<()> {
        self.put(item.to_json()).await
    }

    async fn send_later(&self, item: &WorkItem, seconds: u64) -> Result<()> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(item.to_json())
            .delay_seconds(seconds.clamp(1, 900) as i32)
            .send()
            .await
            .map_err(|e| aws_error("sqs", e))?;
        Ok(())
    }

    async fn announce(&self, announcement: &Announcement) -> Result<()> {
        self.put(serde_json::to_string(announcement).expect("announcements serialise"))
            .await
    }

    /// The message's visibility timeout becomes the delay (SQS allows up to 12 hours).
    async fn retry_after(&self, receipt: &str, seconds: u64) -> Result<()> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .visibility_timeout(seconds.clamp(1, 43_200) as i32)
            .send()
            .await
            .map_err(|e| aws_error("sqs", e))?;
        Ok(())
    }
}
