//! A fault proxy: sits between the functions and a service (moto, the Slack stand-in) and,
//! for chosen operations, answers with a server error or drops the connection instead of
//! forwarding. Everything else is forwarded as it is. Operations are named as the service
//! knows them: the `X-Amz-Target` action for AWS (`PutItem`, `UpdateItem`, `SendMessage`),
//! the Web API method for Slack (`chat.postMessage`).
//!
//! One request per connection (`Connection: close` both ways), so a fault never leaves a
//! pooled connection in a state the client would trip over later.

use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 500 with the service's own retryable error body.
    ServerError,
    /// The connection closes without an answer (a timeout or a dead peer, as a client sees it).
    Drop,
}

struct Rule {
    operation: String,
    fault: Fault,
    /// Calls of the operation let through before the faults start.
    skip: usize,
    remaining: usize,
}

#[derive(Clone)]
pub struct FaultProxy {
    pub url: String,
    rules: Arc<Mutex<Vec<Rule>>>,
    seen: Arc<Mutex<Vec<String>>>,
    /// Every AWS call as sent: its `X-Amz-Target` and JSON body.
    calls: Arc<Mutex<Vec<(String, String)>>>,
}

impl FaultProxy {
    /// Forwards to `upstream` (`http://host:port`, no path).
    pub async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let proxy = FaultProxy {
            url,
            rules: Arc::default(),
            seen: Arc::default(),
            calls: Arc::default(),
        };
        let p = proxy.clone();
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let (p, upstream) = (p.clone(), upstream.clone());
                tokio::spawn(async move {
                    let _ = p.serve(conn, &upstream).await;
                });
            }
        });
        proxy
    }

    /// The next `times` calls of `operation` fail with `fault`.
    pub fn fail(&self, operation: &str, fault: Fault, times: usize) {
        self.fail_after(operation, 0, fault, times);
    }

    /// After letting `skip` calls of `operation` through, the next `times` fail with `fault`.
    pub fn fail_after(&self, operation: &str, skip: usize, fault: Fault, times: usize) {
        self.rules.lock().unwrap().push(Rule {
            operation: operation.to_string(),
            fault,
            skip,
            remaining: times,
        });
    }

    /// No more faults: every call from now on is forwarded.
    pub fn heal(&self) {
        self.rules.lock().unwrap().clear();
    }

    /// Every AWS call that came through: (`X-Amz-Target`, body).
    pub fn aws_calls(&self) -> Vec<(String, String)> {
        self.calls.lock().unwrap().clone()
    }

    /// How many calls of `operation` came through (faulted or not).
    pub fn calls(&self, operation: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|o| *o == operation)
            .count()
    }

    fn fault_for(&self, operation: &str) -> Option<Fault> {
        let mut rules = self.rules.lock().unwrap();
        let rule = rules
            .iter_mut()
            .find(|r| r.operation == operation && r.remaining > 0)?;
        if rule.skip > 0 {
            rule.skip -= 1;
            return None;
        }
        rule.remaining -= 1;
        Some(rule.fault)
    }

    async fn serve(&self, mut conn: TcpStream, upstream: &str) -> std::io::Result<()> {
        let Some((head, body)) = read_request(&mut conn).await? else {
            return Ok(());
        };
        let operation = operation(&head);
        self.seen.lock().unwrap().push(operation.clone());
        if let Some(target) = header(&head, "x-amz-target") {
            self.calls.lock().unwrap().push((
                target.to_string(),
                String::from_utf8_lossy(&body).into_owned(),
            ));
        }
        match self.fault_for(&operation) {
            Some(Fault::Drop) => Ok(()), // closes without a word
            Some(Fault::ServerError) => {
                let body = format!(
                    r#"{{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected fault","ok":false,"error":"internal_error","operation":"{operation}"}}"#
                );
                let answer = format!(
                    "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                conn.write_all(answer.as_bytes()).await
            }
            None => {
                let mut up = TcpStream::connect(upstream).await?;
                up.write_all(with_close(&head).as_bytes()).await?;
                up.write_all(&body).await?;
                let mut answer = Vec::new();
                up.read_to_end(&mut answer).await?;
                conn.write_all(&close_answer(answer)).await
            }
        }
    }
}

/// One request: its head (up to the blank line) and its body (by Content-Length).
async fn read_request(conn: &mut TcpStream) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length: usize = header(&head, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Some((head, body)))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// `PutItem` from `X-Amz-Target: DynamoDB_20120810.PutItem`, `chat.postMessage` from
/// `POST /api/chat.postMessage`.
fn operation(head: &str) -> String {
    if let Some(target) = header(head, "x-amz-target") {
        return target.rsplit('.').next().unwrap_or(target).to_string();
    }
    let path = head.split_whitespace().nth(1).unwrap_or("");
    path.rsplit('/').next().unwrap_or(path).to_string()
}

/// The request head with `Connection: close` (and no keep-alive).
fn with_close(head: &str) -> String {
    let mut lines: Vec<&str> = head
        .trim_end()
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    lines.push("Connection: close");
    format!("{}\r\n\r\n", lines.join("\r\n"))
}

/// The upstream's answer, told to close the connection.
fn close_answer(answer: Vec<u8>) -> Vec<u8> {
    let Some(end) = find(&answer, b"\r\n\r\n") else {
        return answer;
    };
    let head = with_close(&String::from_utf8_lossy(&answer[..end]));
    let mut out = head.into_bytes();
    out.extend_from_slice(&answer[end + 4..]);
    out
}
