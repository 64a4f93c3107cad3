//! The transport every provider instance really uses: circuit first (an open circuit
//! spends no rate budget), then the outbound pace, then HTTP; vendor answers feed both.

use std::sync::Arc;

use async_trait::async_trait;
use refund_provider::{Transport, TransportError, VendorRequest, VendorResponse};

use super::circuit::Circuit;
use super::outbound_limit::OutboundLimit;

pub struct GuardedTransport {
    pub circuit: Arc<Circuit>,
    pub limit: Arc<OutboundLimit>,
    pub inner: Arc<dyn Transport>,
}

#[async_trait]
impl Transport for GuardedTransport {
    async fn send(&self, request: VendorRequest) -> Result<VendorResponse, TransportError> {
        self.circuit.admit()?;
        if let Err(e) = self.limit.acquire().await {
            self.circuit.record(None);
            return Err(e);
        }
        let result = self.inner.send(request).await;
        match &result {
            Ok(response) => {
                self.limit.observe(response.status, response.retry_after());
                self.circuit.record(Some(response.status < 500));
            }
            Err(_) => self.circuit.record(Some(false)),
        }
        result
    }
}
