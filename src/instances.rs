//! Building the configured provider instances: each instance's vendor settings are read by
//! its vendor's config type (through the registry), its credentials resolved, its sandbox
//! started when asked, and its transport set up.

use std::collections::BTreeMap;
use std::sync::Arc;

use refund_provider::{
    BuildContext, ConfigError as VendorConfigError, InstanceName, Provider, Sandbox, Transport,
    Vendor,
};

use crate::config::{CacheConfig, ConfigError, InstanceSpec, RetryConfig};
use crate::outbound::HttpTransport;
use crate::record::{Recorder, RecordingTransport};
use crate::registry::{self, VendorVisitor};
use crate::sandbox_host::SandboxHost;
use crate::scrub::{configured_secrets, ScrubbedProvider, Scrubber};
use crate::traffic::circuit::Circuit;
use crate::traffic::guarded_transport::GuardedTransport;
use crate::traffic::outbound_limit::OutboundLimit;

/// A built instance, as the API serves it.
pub struct Instance {
    pub name: InstanceName,
    pub kind: &'static str,
    pub sandbox: bool,
    pub provider: Arc<dyn Provider>,
    pub traffic: InstanceTraffic,
    /// How long an unknown outcome may take to show at the vendor (see config).
    pub settle_window: std::time::Duration,
    /// A whole vendor call's timeout.
    pub timeout: std::time::Duration,
}

impl Instance {
    /// The instance as messages name it: "`name` (kind)", formatted only when shown.
    pub fn who(&self) -> impl std::fmt::Display + '_ {
        struct Who<'a>(&'a Instance);
        impl std::fmt::Display for Who<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "`{}` ({})", self.0.name, self.0.kind)
            }
        }
        Who(self)
    }
}

/// The traffic controls of one instance, shared with its transport.
pub struct InstanceTraffic {
    pub limit: Arc<OutboundLimit>,
    pub circuit: Arc<Circuit>,
    pub cache: CacheConfig,
    pub retry: RetryConfig,
}

/// All configured instances, by name.
#[derive(Default)]
pub struct Instances {
    by_name: BTreeMap<InstanceName, Instance>,
}

impl Instances {
    pub fn get(&self, name: &str) -> Option<&Instance> {
        self.by_name.get(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Instance> {
        self.by_name.values()
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// What the sync half of building yields: the vendor config is read, the sandbox (if any)
/// made, and what is left needs the base URL, which a sandbox only has once it listens.
struct Prepared {
    kind: &'static str,
    default_base_url: Option<&'static str>,
    sandbox: Option<Arc<dyn Sandbox>>,
    finish: Finish,
}

/// Builds the instance once its base URL is known.
type Finish = Box<dyn FnOnce(BuildContext) -> Result<Arc<dyn Provider>, VendorConfigError> + Send>;

struct Prepare<'a> {
    spec: &'a InstanceSpec,
}

impl VendorVisitor for Prepare<'_> {
    type Output = Result<Prepared, ConfigError>;

    fn visit<V: Vendor>(self) -> Self::Output {
        let spec = self.spec;
        let config: V::Config = spec
            .vendor_settings
            .deserialize()
            .map_err(|e| ConfigError::from_figment(&spec.origin, &spec.key(""), e))?;
        let sandbox = spec.common.sandbox.then(|| V::sandbox(&config));
        Ok(Prepared {
            kind: V::KIND,
            default_base_url: V::DEFAULT_BASE_URL,
            sandbox,
            finish: Box::new(move |ctx| V::build(config, ctx)),
        })
    }
}

/// The sandbox of an instance's vendor (the `sandbox` command and tests serve it alone).
pub fn sandbox_of(spec: &InstanceSpec) -> Result<Arc<dyn Sandbox>, ConfigError> {
    let mut spec = spec.clone();
    spec.common.sandbox = true;
    let prepared =
        registry::with_vendor(&spec.common.kind, Prepare { spec: &spec }).ok_or_else(|| {
            ConfigError::new(
                &spec.origin,
                spec.key("kind"),
                format!("unknown kind `{}`", spec.common.kind),
            )
        })??;
    prepared.sandbox.ok_or_else(|| {
        ConfigError::new(
            &spec.origin,
            spec.key("sandbox"),
            "this vendor has no sandbox",
        )
    })
}

/// Whether sandboxes are really served (`serve`) or only checked (`check-config`).
pub enum SandboxMode<'a> {
    Serve(&'a mut SandboxHost),
    CheckOnly,
}

/// Builds every instance, stopping at the first error with its key.
pub async fn build_all(
    specs: &[InstanceSpec],
    sandboxes: SandboxMode<'_>,
) -> Result<Instances, ConfigError> {
    build_all_recording(specs, sandboxes, None).await
}

/// `build_all`, with `record` inserting a recording layer (`record::RecordingTransport`)
/// around each instance's HTTP transport (`refund-gateway record`).
pub async fn build_all_recording(
    specs: &[InstanceSpec],
    mut sandboxes: SandboxMode<'_>,
    record: Option<&Recorder>,
) -> Result<Instances, ConfigError> {
    if let Some(recorder) = record {
        if let Some(unknown) = recorder
            .instances
            .iter()
            .find(|name| !specs.iter().any(|s| s.name.as_str() == name.as_str()))
        {
            return Err(ConfigError::new(
                "the command line",
                "--instance",
                format!("`{unknown}` is not a provider instance of the config"),
            ));
        }
    }
    let mut instances = Instances::default();
    for spec in specs {
        let prepared =
            registry::with_vendor(&spec.common.kind, Prepare { spec }).ok_or_else(|| {
                ConfigError::new(
                    &spec.origin,
                    spec.key("kind"),
                    format!(
                        "unknown kind `{}`; known kinds: {}",
                        spec.common.kind,
                        registry::kinds().join(", ")
                    ),
                )
            })??;
        let base_url = match (&prepared.sandbox, &mut sandboxes) {
            (Some(sandbox), SandboxMode::Serve(host)) => host
                .serve(spec.name.clone(), sandbox.clone())
                .await
                .map_err(|e| {
                    ConfigError::new(
                        &spec.origin,
                        spec.key("sandbox"),
                        format!("cannot start the sandbox: {e}"),
                    )
                })?,
            (Some(_), SandboxMode::CheckOnly) => "http://127.0.0.1:9".to_string(),
            (None, _) => match (&spec.common.base_url, prepared.default_base_url) {
                (Some(url), _) => url.to_string(),
                (None, Some(default)) => default.to_string(),
                (None, None) => {
                    return Err(ConfigError::new(
                        &spec.origin,
                        spec.key("base_url"),
                        format!(
                            "missing: `{}` has no default base URL; set one (or sandbox = true)",
                            prepared.kind
                        ),
                    ))
                }
            },
        };
        let http = HttpTransport::new(spec.name.clone(), &spec.common)
            .map_err(|e| ConfigError::new(&spec.origin, spec.key(""), e))?;
        let traffic = InstanceTraffic {
            limit: Arc::new(OutboundLimit::new(spec.common.rate_limit.clone())),
            circuit: Arc::new(Circuit::new(spec.common.circuit.clone())),
            cache: spec.common.cache.clone(),
            retry: spec.common.retry.clone(),
        };
        let http: Arc<dyn Transport> = match record {
            Some(recorder) if recorder.records(spec.name.as_str()) => {
                Arc::new(RecordingTransport::new(
                    Arc::new(http),
                    recorder,
                    spec,
                    prepared.kind,
                    base_url.clone(),
                    crate::record::Redactor::new(
                        recorded_secrets(spec, prepared.kind),
                        &crate::fixtures::personal_data(prepared.kind, &recorder.personal_data),
                    ),
                ))
            }
            _ => Arc::new(http),
        };
        let transport = GuardedTransport {
            instance: spec.name.as_str().to_string(),
            circuit: traffic.circuit.clone(),
            limit: traffic.limit.clone(),
            inner: http,
        };
        let ctx = BuildContext {
            instance: spec.name.clone(),
            base_url,
            sandbox: spec.common.sandbox,
            transport: Arc::new(transport),
        };
        let provider = (prepared.finish)(ctx)
            .map_err(|e| ConfigError::new(&spec.origin, spec.key(&e.key), e.message))?;
        // Every answer of the vendor passes through the instance's scrubber.
        let provider: Arc<dyn Provider> = Arc::new(ScrubbedProvider {
            inner: provider,
            scrubber: Scrubber::new(configured_secrets(&spec.vendor_settings)),
        });
        instances.by_name.insert(
            spec.name.clone(),
            Instance {
                name: spec.name.clone(),
                kind: prepared.kind,
                sandbox: spec.common.sandbox,
                provider,
                traffic,
                settle_window: spec.common.settle_window,
                timeout: spec.common.timeout,
            },
        );
    }
    Ok(instances)
}

/// What the recorder redacts for an instance: its configured secrets and, for a sandbox
/// instance, the credentials its sandbox uses instead.
pub fn recorded_secrets(
    spec: &InstanceSpec,
    kind: &str,
) -> Vec<refund_provider::secrecy::SecretString> {
    let mut secrets = configured_secrets(&spec.vendor_settings);
    if spec.common.sandbox {
        secrets.extend(
            registry::sandbox_credentials(kind)
                .into_iter()
                .map(|s| refund_provider::secrecy::SecretString::from(s.to_string())),
        );
    }
    secrets
}
