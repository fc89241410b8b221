//! The interaction endpoint: method, signature (the secret is re-read only on a mismatch),
//! reading, answering.

use super::*;
use crate::adapters::slack::interaction::{
    SIGNATURE_HEADER, SlackRequests, TIMESTAMP_HEADER, sign,
};
use crate::conversation::endpoint::InteractionEndpoint;
use crate::core::http::{Reply, Request};
use crate::core::secrets::{SecretString, Secrets};
use crate::error::Result;
use crate::ports::SecretStore;
use async_trait::async_trait;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

const SECRET: &str = "signing-secret";

/// A secret store that counts re-reads, and whose stored secret can change (rotation).
struct Rotating {
    current: std::sync::Mutex<String>,
    refreshes: AtomicUsize,
}

#[async_trait]
impl SecretStore for Rotating {
    async fn get(&self) -> Result<Arc<Secrets>> {
        Ok(Arc::new(Secrets {
            slack_signing_secret: Some(SecretString::new(SECRET)),
            ..Secrets::default()
        }))
    }

    async fn refresh(&self) -> Result<Arc<Secrets>> {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        Ok(Arc::new(Secrets {
            slack_signing_secret: Some(SecretString::new(self.current.lock().unwrap().clone())),
            ..Secrets::default()
        }))
    }
}

fn endpoint(world: &World) -> (InteractionEndpoint, Arc<Rotating>) {
    let secrets = Arc::new(Rotating {
        current: std::sync::Mutex::new(SECRET.into()),
        refreshes: AtomicUsize::new(0),
    });
    let endpoint = InteractionEndpoint {
        answers: world.answers(),
        chat: Arc::new(SlackRequests),
        secrets: secrets.clone(),
        clock: world.clock.clone(),
    };
    (endpoint, secrets)
}

async fn post(
    e: &InteractionEndpoint,
    method: &str,
    headers: HashMap<String, String>,
    body: &[u8],
) -> Reply {
    let query = HashMap::new();
    e.receive(Request {
        method,
        path: "/",
        headers: &headers,
        query: &query,
        body,
        source_ip: None,
    })
    .await
}

fn signed(secret: &str, ts: i64, body: &[u8]) -> HashMap<String, String> {
    [
        (TIMESTAMP_HEADER.to_string(), ts.to_string()),
        (SIGNATURE_HEADER.to_string(), sign(secret, ts, body)),
    ]
    .into()
}

#[tokio::test]
async fn only_post_is_accepted() {
    let world = World::new();
    let (e, _) = endpoint(&world);
    let reply = post(&e, "GET", HashMap::new(), b"").await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.body.unwrap()["error"], "method_not_allowed");
}

#[tokio::test]
async fn malformed_or_expired_signatures_never_re_read_the_secret() {
    let world = World::new();
    let (e, secrets) = endpoint(&world);
    let body = b"payload=%7B%7D";
    let reply = post(&e, "POST", HashMap::new(), body).await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.body.unwrap()["message"],
        "missing X-Slack-Request-Timestamp"
    );
    let old = t0().timestamp() - 301;
    let reply = post(&e, "POST", signed(SECRET, old, body), body).await;
    assert_eq!(reply.status, 401);
    assert_eq!(secrets.refreshes.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_mismatch_re_reads_the_secret_once_so_a_rotated_one_works() {
    let world = World::new();
    let (e, secrets) = endpoint(&world);
    let body = b"{\"type\":\"url_verification\",\"challenge\":\"c-1\"}";
    let ts = t0().timestamp();
    let reply = post(&e, "POST", signed("forged", ts, body), body).await;
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.body.unwrap()["message"],
        "the signature does not match"
    );
    assert_eq!(secrets.refreshes.load(Ordering::SeqCst), 1);

    *secrets.current.lock().unwrap() = "rotated".into();
    let reply = post(&e, "POST", signed("rotated", ts, body), body).await;
    assert_eq!(reply, Reply::json(200, json!({"challenge": "c-1"})));
}

#[tokio::test]
async fn an_unreadable_body_is_a_400_naming_it() {
    let world = World::new();
    let (e, _) = endpoint(&world);
    let body = b"nonsense=1";
    let reply = post(&e, "POST", signed(SECRET, t0().timestamp(), body), body).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body.unwrap()["message"],
        "the form has no payload field"
    );
}

#[tokio::test]
async fn a_click_is_acted_on_and_answered_with_an_empty_200() {
    let world = World::new();
    let id = world.stored(Status::Asked);
    let (e, _) = endpoint(&world);
    let payload = json!({"type": "block_actions", "user": {"id": ALICE_CHAT}, "trigger_id": "t",
        "actions": [{"action_id": "answer_no", "value": id.as_str()}]});
    let body = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
    let reply = post(
        &e,
        "POST",
        signed(SECRET, t0().timestamp(), body.as_bytes()),
        body.as_bytes(),
    )
    .await;
    assert_eq!(
        reply,
        Reply {
            status: 200,
            body: None
        }
    );
    assert_eq!(world.record(&id).status, Status::Escalated);
}
