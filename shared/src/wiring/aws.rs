//! The AWS SDK's configuration, once per cold start: as `aws_config::load_defaults`, with an
//! HTTPS client that trusts only the roots AWS's own endpoints chain to (Amazon Trust Services:
//! Amazon Root CA 1 to 4, and Starfield Services Root CA G2, which cross-signs them).
//!
//! Why: the default client reads and parses the system's whole certificate store (about 140
//! roots) at every cold start, the largest part of our init after the binary itself (ingest:
//! 10.3 -> 7.8 ms here with the system bundle alone). These clients only ever talk to AWS
//! service endpoints, which present Amazon Trust Services chains. Where something else sits in
//! between (a TLS-inspecting proxy, a partition with other roots), set
//! `SECURITYBOT_SYSTEM_ROOTS=true` and the system's store is used as before: a wrong root fails
//! loudly (every AWS call refused), never silently.

use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};

/// Amazon Trust Services' roots, PEM (as Mozilla's store ships them).
const AWS_ROOTS: &str = include_str!("aws_roots.pem");

/// Where the system's store is asked for instead (see the module's comment).
pub const SYSTEM_ROOTS_ENV: &str = "SECURITYBOT_SYSTEM_ROOTS";

/// The SDK configuration every function's `main` builds its clients from.
pub async fn config() -> aws_config::SdkConfig {
    let system_roots = std::env::var(SYSTEM_ROOTS_ENV).is_ok_and(|v| v == "true");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(https_client(system_roots))
        .load()
        .await
}

/// The SDK's default HTTPS client (rustls with aws-lc, as `default-https-client` builds it),
/// trusting the AWS roots only unless `system_roots`.
pub fn https_client(system_roots: bool) -> SharedHttpClient {
    let store = if system_roots {
        TrustStore::default()
    } else {
        TrustStore::empty()
            .with_native_roots(false)
            .with_pem_certificate(AWS_ROOTS.as_bytes())
    };
    let context = TlsContext::builder()
        .with_trust_store(store)
        .build()
        .expect("a trust store without extra server names always builds");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    #[test]
    fn the_bundled_roots_are_amazon_trust_services_five_valid_trust_anchors() {
        let certs: Vec<CertificateDer> = CertificateDer::pem_slice_iter(AWS_ROOTS.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(certs.len(), 5);
        let mut store = rustls::RootCertStore::empty();
        let (added, ignored) = store.add_parsable_certificates(certs);
        assert_eq!((added, ignored), (5, 0));
        for name in [
            "Amazon Root CA 1",
            "Amazon Root CA 4",
            "Starfield Services Root",
        ] {
            assert!(AWS_ROOTS.contains(name), "{name}");
        }
    }

    #[tokio::test]
    async fn the_sdk_refuses_an_endpoint_no_aws_root_vouches_for() {
        let port = crate::adapters::http::tests::self_signed_server();
        let config = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
                aws_sdk_dynamodb::config::Credentials::new("id", "secret", None, None, "test"),
            ))
            .endpoint_url(format!("https://localhost:{port}"))
            .http_client(https_client(false))
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build();
        let answer = aws_sdk_dynamodb::Client::new(&config)
            .list_tables()
            .send()
            .await;
        let error = format!("{:?}", answer.expect_err("an unknown issuer"));
        assert!(error.contains("UnknownIssuer"), "{error}");
    }
}
