//! Serves vendor sandboxes on loopback for `sandbox = true` instances, each on a port of
//! its own so that its paths are the vendor's paths relative to the base URL.

use std::net::SocketAddr;
use std::sync::Arc;

use refund_provider::{InstanceName, Sandbox, SandboxRequest, VendorResponse};

use crate::loopback::{Handler, LoopbackServer};

/// Called with every request a standalone sandbox answers (request logs).
pub type Observer = Arc<dyn Fn(&SandboxRequest, &VendorResponse) + Send + Sync>;

/// Serves one sandbox at `addr`, telling `observer` about every exchange.
pub async fn serve_observed(
    addr: SocketAddr,
    sandbox: Arc<dyn Sandbox>,
    observer: Observer,
) -> std::io::Result<LoopbackServer> {
    let handler: Handler = Arc::new(move |request| {
        let (sandbox, observer) = (sandbox.clone(), observer.clone());
        Box::pin(async move {
            let response = sandbox.handle(&request);
            observer(&request, &response);
            Some(response)
        })
    });
    LoopbackServer::start(addr, handler).await
}

#[derive(Default)]
pub struct SandboxHost {
    servers: Vec<(InstanceName, LoopbackServer)>,
}

impl SandboxHost {
    /// Starts serving `sandbox` and returns its base URL.
    pub async fn serve(
        &mut self,
        instance: InstanceName,
        sandbox: Arc<dyn Sandbox>,
    ) -> std::io::Result<String> {
        let handler: Handler = Arc::new(move |request| {
            let sandbox = sandbox.clone();
            Box::pin(async move { Some(sandbox.handle(&request)) })
        });
        let server = LoopbackServer::start(SocketAddr::from(([127, 0, 0, 1], 0)), handler).await?;
        let url = server.base_url();
        tracing::info!(instance = %instance, %url, "sandbox vendor listening");
        self.servers.push((instance, server));
        Ok(url)
    }
}
