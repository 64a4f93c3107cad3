//! The real `Transport`: one reqwest client per provider instance, with that instance's
//! timeouts. It classifies failures by whether the vendor may have seen the request, which
//! is what decides if a create's outcome is unknown.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use refund_provider::{InstanceName, Transport, TransportError, VendorRequest, VendorResponse};

use crate::config::InstanceCommon;

/// Vendor answers larger than this are cut off and treated as unreadable.
const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

pub struct HttpTransport {
    instance: InstanceName,
    client: reqwest::Client,
    timeout: Duration,
}

impl HttpTransport {
    pub fn new(instance: InstanceName, common: &InstanceCommon) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .connect_timeout(common.connect_timeout)
            .timeout(common.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("refund-gateway/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(HttpTransport {
            instance,
            client,
            timeout: common.timeout,
        })
    }

    fn classify(&self, error: &reqwest::Error) -> TransportError {
        if error.is_connect() {
            // Includes connect timeouts: no byte of the request left us.
            TransportError::Connect(error_chain(error))
        } else if error.is_timeout() {
            TransportError::Timeout {
                after: self.timeout,
                sent: true,
            }
        } else if error.is_builder() {
            TransportError::Connect(error_chain(error))
        } else {
            TransportError::Broken(error_chain(error))
        }
    }
}

/// The error and its causes, one line: reqwest's own message is often just "error sending request".
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[async_trait]
impl Transport for HttpTransport {
    async fn send(&self, request: VendorRequest) -> Result<VendorResponse, TransportError> {
        let started = Instant::now();
        let method = request.method.clone();
        let url = request.url.clone();
        let mut builder = self
            .client
            .request(request.method, &request.url)
            .headers(request.headers);
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let result = async {
            let response = builder.send().await.map_err(|e| self.classify(&e))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = read_limited(response)
                .await
                .map_err(|e| self.classify(&e))?;
            Ok(VendorResponse {
                status,
                headers,
                body,
            })
        }
        .await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match &result {
            Ok(r) => {
                tracing::info!(instance = %self.instance, %method, %url, status = r.status, elapsed_ms, "vendor call")
            }
            Err(e) => {
                tracing::warn!(instance = %self.instance, %method, %url, elapsed_ms, error = %e, "vendor call failed")
            }
        }
        result
    }
}

async fn read_limited(mut response: reqwest::Response) -> Result<bytes::Bytes, reqwest::Error> {
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = response.chunk().await? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_RESPONSE_BYTES {
            body.truncate(MAX_RESPONSE_BYTES);
            break;
        }
    }
    Ok(body.freeze())
}
