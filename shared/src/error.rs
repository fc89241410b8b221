//! One error type for the whole crate. Every variant knows whether trying again can help,
//! so handlers can tell Lambda/SQS to retry (transient) or give up and dead-letter (permanent).

use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum Error {
    /// Configuration is missing or wrong; the function cannot work until an operator fixes it.
    #[error("configuration error: {0}")]
    Config(String),
    /// Input we will never accept, whatever happens next.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// A dependency failed in a way that may succeed on a later try (throttling, timeouts, 5xx).
    #[error("{service} is unavailable: {message}")]
    Transient {
        service: &'static str,
        message: String,
    },
    /// A dependency asked us to slow down and said when to come back.
    #[error("{service} is rate limiting us; retry after {retry_after_secs} s")]
    RateLimited {
        service: &'static str,
        retry_after_secs: u64,
    },
    /// A dependency refused the request for good (access denied, missing resource, bad request).
    #[error("{service} refused the request: {message}")]
    Permanent {
        service: &'static str,
        message: String,
    },
}

impl Error {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Transient { .. } | Error::RateLimited { .. })
    }

    pub fn transient(service: &'static str, message: impl Into<String>) -> Self {
        Error::Transient {
            service,
            message: message.into(),
        }
    }

    pub fn permanent(service: &'static str, message: impl Into<String>) -> Self {
        Error::Permanent {
            service,
            message: message.into(),
        }
    }

    /// How long to wait before retrying, when the dependency said so.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Error::RateLimited {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transient_errors_are_retryable() {
        assert!(Error::transient("dynamodb", "throttled").is_retryable());
        assert!(!Error::permanent("dynamodb", "no such table").is_retryable());
        assert!(!Error::Config("x".into()).is_retryable());
        assert!(!Error::Invalid("x".into()).is_retryable());
    }
}
