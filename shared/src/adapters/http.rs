//! Plain HTTP helpers shared by the SIEM adapters (write-back sinks and pulled feeds).

use crate::error::{Error, Result};
use std::time::Duration;

pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .expect("an HTTP client with a timeout always builds")
}

/// The body of a successful response. 429, 5xx and network failures are worth retrying;
/// other refusals (401, 404...) are not. Errors quote at most 200 characters of the answer
/// and never the URL (it may carry a token).
pub async fn body(
    service: &'static str,
    response: std::result::Result<reqwest::Response, reqwest::Error>,
) -> Result<String> {
    let response = response.map_err(|e| Error::transient(service, e.without_url().to_string()))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| Error::transient(service, e.without_url().to_string()))?;
    if status.is_success() {
        return Ok(text);
    }
    let message = format!(
        "HTTP {status}: {}",
        text.chars().take(200).collect::<String>()
    );
    if status.as_u16() == 429 || status.is_server_error() {
        Err(Error::transient(service, message))
    } else {
        Err(Error::permanent(service, message))
    }
}
