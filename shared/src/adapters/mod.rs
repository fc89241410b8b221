//! Adapters: the ports implemented on real services, plus in-memory twins for tests.
//! Adapters import the core and the ports, never a use case.

pub mod clock;
pub mod config_store;
pub mod duo;
pub mod dynamodb;
pub mod emf;
pub mod feeds;
pub(crate) mod http;
#[cfg(any(test, feature = "twins"))]
pub mod memory;
pub mod secrets_manager;
pub mod siem;
pub mod slack;
pub mod sqs;
pub mod totp;

use crate::error::Error;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// Error codes any AWS service uses for "slow down" or "try later".
const RETRYABLE_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "Throttling",
    "RequestLimitExceeded",
    "InternalServerError",
    "InternalFailure",
    "InternalServiceError",
    "ServiceUnavailable",
    "RequestThrottled",
    "TransactionConflictException",
];

/// Sorts an AWS SDK error into retryable or permanent, keeping the service's own explanation.
pub(crate) fn aws_error<E, R>(service: &'static str, err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let retryable = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(_) => err
            .code()
            .is_some_and(|code| RETRYABLE_CODES.contains(&code)),
        _ => false,
    };
    let message = DisplayErrorContext(&err).to_string();
    if retryable {
        Error::transient(service, message)
    } else {
        Error::permanent(service, message)
    }
}
