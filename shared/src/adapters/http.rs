//! Plain HTTP helpers shared by the adapters that speak HTTP themselves: Slack, Duo, the SIEMs
//! (write-back sinks and pulled feeds).

use crate::error::{Error, Result};
use std::time::Duration;

/// Every HTTP client we build (Slack, Duo, the SIEMs), with a timeout and [`tls`].
pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .tls_backend_preconfigured(tls().clone())
        .build()
        .expect("an HTTP client with a timeout and a rustls config always builds")
}

/// TLS for our own HTTP clients, built once per process: certificates are verified against
/// Mozilla's root store compiled in (webpki-roots) rather than the system's, which reqwest
/// would read and parse at every cold start (the AWS SDK's clients have their own roots:
/// `wiring::aws`). The catch: a root added to or removed from Mozilla's
/// store reaches the bot with a rebuild (`cargo update -p webpki-roots`), not an OS update.
pub fn tls() -> &'static rustls::ClientConfig {
    static TLS: std::sync::OnceLock<rustls::ClientConfig> = std::sync::OnceLock::new();
    TLS.get_or_init(|| {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("aws-lc-rs supports the default TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth()
    })
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::sync::Arc;

    /// A TLS server on loopback with a self-signed certificate for `localhost` (test-only key).
    pub(crate) fn self_signed_server() -> u16 {
        let cert = CertificateDer::from_pem_slice(include_bytes!("self_signed_cert.pem")).unwrap();
        let key = PrivateKeyDer::from_pem_slice(include_bytes!("self_signed_key.pem")).unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let config = Arc::new(config);
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let connection = rustls::ServerConnection::new(config.clone()).unwrap();
                let mut tls = rustls::StreamOwned::new(connection, tcp);
                let _ = std::io::Read::read(&mut tls, &mut [0u8; 64]);
            }
        });
        port
    }

    #[tokio::test]
    async fn our_clients_verify_certificates_against_the_compiled_in_roots() {
        assert!(tls().alpn_protocols.is_empty(), "HTTP/1.1, as before");
        let port = self_signed_server();
        let answer = client(Duration::from_secs(5))
            .get(format!("https://localhost:{port}/"))
            .send()
            .await;
        let error = format!(
            "{:?}",
            answer.expect_err("a certificate no root vouches for")
        );
        assert!(error.contains("UnknownIssuer"), "{error}");
    }
}
