//! Assembling and running the gateway: config -> sandboxes -> provider instances -> router
//! -> listener. Tests start it in-process the same way `serve` does.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::client_limit::ClientLimiter;
use crate::api::{self, AppState};
use crate::config::{Config, ConfigError};
use crate::instances::{self, SandboxMode};
use crate::sandbox_host::SandboxHost;
use crate::service::create::interrupted;
use crate::service::{reconcile, worker, Refunds};
use crate::storage::refunds::Settle;
use crate::storage::{Storage, StorageError};
use crate::traffic::lookup_cache::LookupCache;

mod checks;

pub use checks::{check, check_each, check_instances};
use checks::{connect_coordination, load_clients, load_webhooks, outbox_config};

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot open the ledger at {url}: {source}")]
    Storage { url: String, source: StorageError },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running gateway. Dropping it stops the server and its sandboxes.
pub struct Server {
    addr: SocketAddr,
    /// The separate metrics listener's address (`[metrics] listen`), and its task.
    metrics_addr: Option<SocketAddr>,
    metrics_task: Option<JoinHandle<()>>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
    _sandboxes: SandboxHost,
    reconciler: JoinHandle<()>,
    batch_worker: JoinHandle<()>,
    stop_worker: tokio::sync::watch::Sender<bool>,
    /// How long a graceful stop waits for batch items in flight.
    drain_limit: std::time::Duration,
    storage: Storage,
    /// This process in the ledger's list of gateways, and what keeps it marked alive.
    gateway_id: String,
    heartbeat: JoinHandle<()>,
    /// The webhook sender and the event purge.
    event_tasks: Vec<JoinHandle<()>>,
}

impl Server {
    /// Starts on `config.server.listen` (port 0 picks a free port).
    pub async fn start(config: Config) -> Result<Server, StartError> {
        Self::start_recording(config, None).await
    }

    /// `start`, recording every vendor exchange as a fixture (`refund-gateway record`).
    pub async fn start_recording(
        config: Config,
        record: Option<crate::record::Recorder>,
    ) -> Result<Server, StartError> {
        // Metrics are recorded from the start (start-up settles and the first heartbeat).
        if config.metrics.enabled {
            api::metrics::handle();
        }
        let ledger_error = |source| StartError::Storage {
            url: config.storage.redacted_url(),
            source,
        };
        let storage = Storage::connect(&config.storage.url)
            .await
            .map_err(ledger_error)?;
        // This process, in the ledger's list of gateways; crashed ones of this host are
        // marked ended now, so the idempotency keys they held are released at once.
        let gateway_id = format!("gw_{}", ulid::Ulid::new().to_string().to_ascii_lowercase());
        let ended = storage
            .register_gateway(&gateway_id)
            .await
            .map_err(ledger_error)?;
        if ended > 0 {
            tracing::warn!(
                count = ended,
                "gateway processes that stopped without a goodbye are marked ended"
            );
        }
        // Webhook endpoints first: events written from here on get their deliveries.
        let endpoints = load_webhooks(&config)?;
        storage.set_outbox(outbox_config(&config, &endpoints));
        // Intents left without an outcome by a previous run (a crash) become unknown now,
        // before any request, so no client sees them as pending.
        let count = storage
            .settle(Settle::Interrupted, &interrupted())
            .await
            .map_err(ledger_error)?;
        if count > 0 {
            tracing::warn!(
                count,
                "refunds interrupted by the last stop are now unknown"
            );
        }
        let record = record.map(|r| crate::record::Recorder {
            personal_data: config.fixtures.personal_data.clone(),
            ..r
        });
        let coordination = connect_coordination(&config)?;
        let mut sandboxes = SandboxHost::default();
        let instances = instances::build_all_recording(
            &config.providers,
            SandboxMode::Serve(&mut sandboxes),
            record.as_ref(),
        )
        .await?;
        let metrics_listener = match config.metrics.listen.filter(|_| config.metrics.enabled) {
            None => None,
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartError::Listen { addr, source })?,
            ),
        };
        let metrics_addr = match &metrics_listener {
            None => None,
            Some(listener) => Some(listener.local_addr().map_err(|source| StartError::Listen {
                addr: config.metrics.listen.unwrap_or(config.server.listen),
                source,
            })?),
        };
        let addr = config.server.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Listen { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| StartError::Listen { addr, source })?;
        if let Some(coordination) = &coordination {
            for instance in instances.iter() {
                instance
                    .traffic
                    .limit
                    .share(coordination.clone(), instance.name.as_str());
            }
        }
        let lookups = LookupCache::new(&config.server.cache);
        if let Some(coordination) = &coordination {
            lookups.share(coordination.clone());
        }
        let clients = load_clients(&config, &instances)?;
        let state_storage = storage.clone();
        let service = Arc::new(Refunds {
            instances,
            lookups,
            ledger_index: Default::default(),
            storage,
            batches: config.batches.clone(),
            batch_work: Arc::new(tokio::sync::Notify::new()),
            request_timeout: config.server.request_timeout,
            gateway_id: gateway_id.clone(),
            unwritten: Default::default(),
            events: config.events.clone(),
            webhook_work: Arc::new(tokio::sync::Notify::new()),
            recently_followed: Default::default(),
        });
        let event_tasks = vec![
            crate::webhooks::worker::Worker {
                storage: service.storage.clone(),
                endpoints: endpoints.into_iter().map(Arc::new).collect(),
                config: config.events.clone(),
                owner: gateway_id.clone(),
                wake: service.webhook_work.clone(),
            }
            .spawn(),
            crate::service::events::spawn_purge(
                Arc::downgrade(&service),
                config.events.purge_interval,
                config.events.retention,
            ),
            crate::service::follow::spawn(Arc::downgrade(&service), config.events.follow_interval),
        ];
        let heartbeat = spawn_heartbeat(service.storage.clone(), gateway_id.clone());
        let state = Arc::new(AppState {
            service: service.clone(),
            idempotency_required: config.idempotency.required,
            body_limit: config.server.body_limit,
            metrics_on_api_port: config.metrics.enabled && config.metrics.listen.is_none(),
            openapi: Arc::new(api::openapi::document(
                !config.clients.is_empty(),
                config.server.public_url.as_ref(),
            )),
            coordination: coordination.clone(),
        });
        let client_limiter = config
            .server
            .client_rate_limit
            .as_ref()
            .map(|limit| ClientLimiter::new_shared(limit, coordination.clone()));
        let (stop_worker, worker_stop) = tokio::sync::watch::channel(false);
        let batch_worker = worker::spawn(Arc::downgrade(&service), worker_stop);
        let drain_limit = config.server.request_timeout;
        let reconciler = reconcile::spawn(
            Arc::downgrade(&service),
            config.reconcile.interval,
            config.idempotency.retention,
        );
        // Metrics are recorded from here on; histograms are compacted now and then even
        // when nobody scrapes `/metrics`.
        if config.metrics.enabled {
            let metrics = api::metrics::handle();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(std::time::Duration::from_secs(10)).await;
                    metrics.run_upkeep();
                }
            });
        }
        let router = api::router(state, clients, client_limiter);
        let router = api::conventions::apply(router, &config.server.cors_origins);
        let router = match &record {
            Some(recorder) => recorder.record_cases(router),
            None => router,
        };
        let limits = api::serve::Limits {
            header_read_timeout: config.server.header_read_timeout,
            idle_timeout: config.server.idle_timeout,
            max_connections: config.server.max_connections.max(1),
            request_timeout: config.server.request_timeout,
        };
        let (tx, rx) = watch::channel(false);
        let metrics_task = metrics_listener.map(|listener| {
            let rx = rx.clone();
            tokio::spawn(api::serve::serve(
                listener,
                api::metrics_router(),
                limits,
                rx,
            ))
        });
        if let Some(addr) = metrics_addr {
            tracing::info!(url = %format!("http://{addr}/metrics"), "metrics served");
        }
        let task = tokio::spawn(api::serve::serve(listener, router, limits, rx));
        Ok(Server {
            addr,
            metrics_addr,
            metrics_task,
            shutdown: tx,
            task,
            _sandboxes: sandboxes,
            reconciler,
            batch_worker,
            stop_worker,
            drain_limit,
            storage: state_storage,
            gateway_id,
            heartbeat,
            event_tasks,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where `GET /metrics` is served when `[metrics] listen` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The ledger this server writes to.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Stops accepting, lets in-flight requests finish, then returns.
    /// Stops accepting, lets in-flight requests and batch items finish (up to the request
    /// timeout), then returns. Queued batch items stay queued for the next start.
    pub async fn shutdown(mut self) {
        let _ = self.stop_worker.send(true);
        let _ = self.shutdown.send(true);
        let drained = tokio::time::timeout(self.drain_limit, &mut self.batch_worker).await;
        if drained.is_err() {
            tracing::warn!(
                "batch items still in flight at shutdown: they will be settled by lookup"
            );
        }
        let _ = (&mut self.task).await;
        if let Some(task) = self.metrics_task.as_mut() {
            let _ = task.await;
        }
        self.heartbeat.abort();
        for task in &self.event_tasks {
            task.abort();
        }
        if let Err(e) = self.storage.end_gateway(&self.gateway_id).await {
            tracing::warn!(error = %e, "could not record this gateway's stop");
        }
    }
}

/// Marks this process alive in the ledger every second, until aborted.
fn spawn_heartbeat(storage: Storage, id: String) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = storage.heartbeat(&id).await {
                tracing::warn!(error = %e, "gateway heartbeat failed");
            }
        }
    })
}

impl Drop for Server {
    fn drop(&mut self) {
        self.heartbeat.abort();
        self.reconciler.abort();
        self.batch_worker.abort();
        for task in &self.event_tasks {
            task.abort();
        }
        let _ = self.shutdown.send(true);
    }
}
