//! Lambda Function URLs <-> our Lambda-independent endpoints ([`crate::core::http`]): the one
//! translation both HTTP functions (ingest, interaction) use. Built with the `function-url`
//! feature, which only those two turn on.

use crate::core::http::{Reply, Request};
use lambda_http::http::header::CONTENT_TYPE;
use lambda_http::{Body, RequestExt, Response};
use std::collections::HashMap;

/// What an endpoint reads besides the body: headers (names lower-cased), query parameters and
/// the caller's address.
pub struct Parts {
    headers: HashMap<String, String>,
    query: HashMap<String, String>,
    source_ip: Option<String>,
}

impl Parts {
    pub fn of(req: &lambda_http::Request) -> Self {
        let headers = req
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                value
                    .to_str()
                    .ok()
                    .map(|v| (name.as_str().to_ascii_lowercase(), v.to_string()))
            })
            .collect();
        let query = req
            .query_string_parameters_ref()
            .map(|q| {
                q.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let source_ip = match req.request_context_ref() {
            Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) => {
                ctx.http.source_ip.clone()
            }
            #[allow(unreachable_patterns)]
            _ => None,
        };
        Parts {
            headers,
            query,
            source_ip,
        }
    }

    /// The request as an endpoint sees it. lambda_http has already base64-decoded the body if
    /// the Function URL sent it encoded.
    pub fn request<'a>(&'a self, req: &'a lambda_http::Request) -> Request<'a> {
        Request {
            method: req.method().as_str(),
            path: req.uri().path(),
            headers: &self.headers,
            query: &self.query,
            body: req.body().as_ref(),
            source_ip: self.source_ip.as_deref(),
        }
    }
}

pub fn response(reply: Reply) -> Result<Response<Body>, lambda_http::Error> {
    let builder = Response::builder().status(reply.status);
    Ok(match reply.body {
        Some(body) => builder
            .header(CONTENT_TYPE, "application/json")
            .body(Body::Text(body.to_string()))?,
        None => builder.body(Body::Empty)?,
    })
}
