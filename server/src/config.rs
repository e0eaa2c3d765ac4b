//! Layered, typed, validated configuration.
//!
//! Every knob is declared exactly once, in the [`knobs!`] invocation below: its section, name,
//! type, default and doc comment. From that one declaration come the config structs (serde,
//! `deny_unknown_fields`), [`Config::default`], the `--section-key` flags with their help text
//! (`grove serve --help`), the `GROVE__SECTION__KEY` environment variables and the commented
//! sample printed by `grove config` (shipped as `deploy/config.toml`).
//!
//! Layers, later wins: defaults -> TOML file (`--config`) -> `GROVE__SECTION__KEY` environment
//! variables -> command-line flags. The merged tree is deserialised once (unknown keys are
//! errors) and then [`Config::validate`]d.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, or a key or value does not fit the schema.
    #[error("config {origin}: {message}")]
    Parse {
        /// Where the bad value came from (file path, variable or flag).
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// An environment variable or flag names a knob that does not exist.
    #[error("{origin} names no known setting (known: {known})")]
    UnknownKey {
        /// The variable or flag.
        origin: String,
        /// The valid keys.
        known: String,
    },
    /// A value parsed but is out of range or inconsistent.
    #[error("invalid config: {0}")]
    Invalid(String),
}

/// Documentation of one knob, generated from its declaration.
#[derive(Debug, Clone, Copy)]
pub struct Knob {
    /// Section (TOML table) name.
    pub section: &'static str,
    /// Key inside the section.
    pub key: &'static str,
    /// The Rust type, as written in the declaration.
    pub ty: &'static str,
    /// The doc comment, one line per entry.
    pub doc: &'static [&'static str],
}

impl Knob {
    /// `--section-key` flag name (without the dashes).
    pub fn flag(&self) -> String {
        format!("{}-{}", self.section, self.key).replace('_', "-")
    }

    /// `GROVE__SECTION__KEY`.
    pub fn env(&self) -> String {
        format!("GROVE__{}__{}", self.section, self.key).to_uppercase()
    }

    /// Whether a raw string value is taken verbatim (strings and paths) rather than parsed as a
    /// TOML scalar (numbers, booleans).
    fn is_textual(&self) -> bool {
        self.ty.contains("String") || self.ty.contains("PathBuf") || self.ty.contains("LogFormat")
    }

    /// The doc comment joined into one paragraph.
    pub fn doc_text(&self) -> String {
        self.doc.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ")
    }
}

macro_rules! knobs {
    ($(
        $(#[doc = $sdoc:literal])*
        [$section:ident] $sty:ident {
            $(
                $(#[doc = $doc:literal])*
                $key:ident : $ty:ty = $default:expr;
            )*
        }
    )*) => {
        /// The whole server configuration. See the module docs for how it is layered.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
        #[serde(deny_unknown_fields, default)]
        pub struct Config {
            $(
                $(#[doc = $sdoc])*
                pub $section: $sty,
            )*
        }

        $(
            $(#[doc = $sdoc])*
            #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
            #[serde(deny_unknown_fields, default)]
            pub struct $sty {
                $(
                    $(#[doc = $doc])*
                    pub $key: $ty,
                )*
            }

            impl Default for $sty {
                fn default() -> Self {
                    Self { $($key: $default,)* }
                }
            }
        )*

        /// Every knob, in declaration order.
        pub const KNOBS: &[Knob] = &[
            $($(
                Knob {
                    section: stringify!($section),
                    key: stringify!($key),
                    ty: stringify!($ty),
                    doc: &[$($doc),*],
                },
            )*)*
        ];

        /// Section names with their doc comments, in declaration order.
        pub const SECTIONS: &[(&str, &[&str])] = &[$((stringify!($section), &[$($sdoc),*]),)*];
    };
}

knobs! {
    /// Network listeners and request handling.
    [service] ServiceConfig {
        /// Address the REST and gRPC listeners bind to. Use 0.0.0.0 to accept remote clients
        /// (then set an API key and TLS).
        host: String = "127.0.0.1".to_owned();
        /// REST (HTTP/JSON, Qdrant-shaped) port.
        http_port: u16 = 6333;
        /// gRPC (grove.v1) port.
        grpc_port: u16 = 6334;
        /// Largest accepted request body, in bytes (REST) or message size (gRPC).
        max_body_bytes: usize = 32 * 1024 * 1024;
        /// Largest accepted snapshot upload (`POST /collections/{name}/snapshots/upload`), in
        /// bytes. Uploads stream to disk, so this bounds the disk an admin-key client can fill,
        /// not memory; a larger one is refused with 413.
        max_snapshot_upload_bytes: u64 = 64 * 1024 * 1024 * 1024;
        /// A request refused for its declared size (413) is read and discarded up to this many
        /// bytes before the answer, so a client that sends its whole body before reading reads
        /// the 413 instead of a connection reset; a larger body gets the 413 and the connection
        /// is closed without reading it.
        refused_body_drain_bytes: u64 = 256 * 1024 * 1024;
        /// Seconds a REST client has to send a request's headers, counted from the connection
        /// opening or from the previous response on a kept-alive connection (so it also closes
        /// idle connections). A connection that has not sent them by then is closed, so stalled
        /// clients cannot pile up open connections. Not much lower: pooled clients reuse idle
        /// connections, and one closed under a request fails that request.
        header_read_timeout_secs: u64 = 30;
        /// Seconds a REST request body may take to arrive, counted from its headers; then it is
        /// refused with 408 and its concurrency slot freed. Snapshot uploads, which may be far
        /// larger, fail only when no byte arrives for this long.
        body_read_timeout_secs: u64 = 30;
        /// Seconds a request may run before it is abandoned with a timeout error.
        request_timeout_secs: u64 = 30;
        /// Requests served at once per listener; more wait in line.
        max_concurrent_requests: usize = 256;
        /// Seconds to wait on shutdown for in-flight requests and writes before flushing.
        shutdown_timeout_secs: u64 = 30;
        /// Threads running searches (CPU-bound work never runs on the async workers). 0 means
        /// one per available core.
        search_threads: usize = 0;
        /// Threads of the analysis pool running Matryoshka calibrations and subset diagnostics
        /// (apart from the search pool, so they never starve queries). At most this many run
        /// at once; a request beyond that is refused with 503 (retry later).
        analysis_threads: usize = 1;
    }

    /// Where data lives.
    [storage] StorageConfig {
        /// Directory of the database (created if missing).
        data_dir: PathBuf = PathBuf::from("./grove-data");
    }

    /// API keys and TLS. Both are off by default (loopback only).
    [security] SecurityConfig {
        /// Key granting every operation, sent as the `api-key` header (REST) or `api-key`
        /// metadata (gRPC); `Authorization: Bearer <key>` also works. Unset: no auth.
        api_key: Option<String> = None;
        /// Key granting read operations only (get, query, scroll, count, list, info).
        read_only_api_key: Option<String> = None;
        /// PEM certificate chain; with tls_key set, both listeners serve TLS only.
        tls_cert: Option<PathBuf> = None;
        /// PEM private key of tls_cert.
        tls_key: Option<PathBuf> = None;
    }

    /// Per-request limits that protect the server from oversized work.
    [limits] LimitsConfig {
        /// Largest `limit` (k) a query may ask for, offset included.
        max_limit: usize = 10_000;
        /// Largest ef (graph search beam width) a query may ask for.
        max_ef: usize = 4_096;
        /// Most queries in one batch request.
        max_batch_size: usize = 1_024;
        /// Most points in one upsert, get or delete-by-ids request.
        max_points_per_request: usize = 100_000;
        /// Most conditions in one filter, nested filters included.
        max_filter_conditions: usize = 256;
    }

    /// The web dashboard: static pages compiled into the binary that read the REST API with the
    /// user's key.
    [dashboard] DashboardConfig {
        /// Serve the dashboard at /dashboard. When false, /dashboard is 404.
        enabled: bool = true;
    }

    /// Logging.
    [log] LogConfig {
        /// Filter in tracing's env-filter syntax (RUST_LOG overrides it), e.g. "info" or
        /// "grove_server=debug,info".
        level: String = "info".to_owned();
        /// "text" for people, "json" for log collectors.
        format: LogFormat = LogFormat::Text;
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl Config {
    /// Merges the layers: defaults, the TOML file (if any), `env` (the process environment,
    /// passed in so tests can control it), then `flags` (`(knob, raw value)` pairs).
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        flags: &[(Knob, String)],
    ) -> Result<Config, ConfigError> {
        let mut tree = toml::Table::try_from(Config::default())
            .map_err(|e| ConfigError::Parse { origin: "defaults".to_owned(), message: e.to_string() })?;

        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
            let origin = path.display().to_string();
            let file_tree: toml::Table = text.parse().map_err(|e: toml::de::Error| ConfigError::Parse {
                origin: origin.clone(),
                message: e.to_string(),
            })?;
            // Deserialise the file alone first: unknown keys and bad types are reported against
            // the file rather than against the merged tree.
            Config::deserialize(toml::Value::Table(file_tree.clone()))
                .map_err(|e| ConfigError::Parse { origin: origin.clone(), message: e.to_string() })?;
            merge(&mut tree, file_tree);
        }

        for (name, raw) in env {
            let Some(rest) = name.strip_prefix("GROVE__") else { continue };
            let knob = KNOBS.iter().find(|k| k.env() == name).ok_or_else(|| ConfigError::UnknownKey {
                origin: format!("environment variable {name}"),
                known: known_envs(),
            })?;
            let _ = rest;
            set(&mut tree, knob, &raw, &format!("environment variable {name}"))?;
        }

        for (knob, raw) in flags {
            set(&mut tree, knob, raw, &format!("flag --{}", knob.flag()))?;
        }

        let config = Config::deserialize(toml::Value::Table(tree)).map_err(|e| ConfigError::Parse {
            origin: "merged settings".to_owned(),
            message: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks ranges and combinations that types alone cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let s = &self.service;
        if s.http_port != 0 && s.http_port == s.grpc_port {
            return Err(ConfigError::Invalid(format!(
                "service.http_port and service.grpc_port are both {}; give them different ports",
                s.http_port
            )));
        }
        let positive = [
            ("service.max_body_bytes", s.max_body_bytes),
            ("service.max_concurrent_requests", s.max_concurrent_requests),
            ("limits.max_limit", self.limits.max_limit),
            ("limits.max_ef", self.limits.max_ef),
            ("limits.max_batch_size", self.limits.max_batch_size),
            ("service.analysis_threads", s.analysis_threads),
            ("limits.max_points_per_request", self.limits.max_points_per_request),
            ("limits.max_filter_conditions", self.limits.max_filter_conditions),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(ConfigError::Invalid(format!("{name} must be at least 1")));
            }
        }
        for (name, secs) in [
            ("service.request_timeout_secs", s.request_timeout_secs),
            ("service.header_read_timeout_secs", s.header_read_timeout_secs),
            ("service.body_read_timeout_secs", s.body_read_timeout_secs),
        ] {
            if secs == 0 {
                return Err(ConfigError::Invalid(format!("{name} must be at least 1")));
            }
        }
        if s.max_snapshot_upload_bytes == 0 {
            return Err(ConfigError::Invalid(
                "service.max_snapshot_upload_bytes must be at least 1".to_owned(),
            ));
        }
        let sec = &self.security;
        if sec.tls_cert.is_some() != sec.tls_key.is_some() {
            return Err(ConfigError::Invalid(
                "security.tls_cert and security.tls_key must be set together".to_owned(),
            ));
        }
        for (name, key) in
            [("security.api_key", &sec.api_key), ("security.read_only_api_key", &sec.read_only_api_key)]
        {
            if key.as_deref().is_some_and(str::is_empty) {
                return Err(ConfigError::Invalid(format!("{name} is empty; unset it to disable auth")));
            }
        }
        if sec.read_only_api_key.is_some() && sec.api_key.is_none() {
            return Err(ConfigError::Invalid(
                "security.read_only_api_key needs security.api_key too (otherwise writes would be open)"
                    .to_owned(),
            ));
        }
        if self.storage.data_dir.as_os_str().is_empty() {
            return Err(ConfigError::Invalid("storage.data_dir is empty".to_owned()));
        }
        Ok(())
    }

    /// Number of search threads to start (resolves 0 to the core count).
    pub fn search_threads(&self) -> usize {
        match self.service.search_threads {
            0 => std::thread::available_parallelism().map(usize::from).unwrap_or(1),
            n => n,
        }
    }
}

fn known_envs() -> String {
    KNOBS.iter().map(Knob::env).collect::<Vec<_>>().join(", ")
}

/// Recursively overlays `top` onto `base`.
fn merge(base: &mut toml::Table, top: toml::Table) {
    for (key, value) in top {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(t)) => merge(b, t),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Sets one knob from a raw string (environment variable or flag).
fn set(tree: &mut toml::Table, knob: &Knob, raw: &str, origin: &str) -> Result<(), ConfigError> {
    let value = if knob.is_textual() {
        toml::Value::String(raw.to_owned())
    } else {
        let parsed: toml::Table = format!("v = {raw}").parse().map_err(|_| ConfigError::Parse {
            origin: origin.to_owned(),
            message: format!("{raw:?} is not a valid {} for {}.{}", knob.ty, knob.section, knob.key),
        })?;
        parsed.get("v").cloned().ok_or_else(|| ConfigError::Parse {
            origin: origin.to_owned(),
            message: format!("no value given for {}.{}", knob.section, knob.key),
        })?
    };
    let section =
        tree.entry(knob.section.to_owned()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
    match section {
        toml::Value::Table(t) => {
            t.insert(knob.key.to_owned(), value);
            Ok(())
        }
        _ => Err(ConfigError::Parse {
            origin: origin.to_owned(),
            message: format!("{} is not a table", knob.section),
        }),
    }
}

/// The default value of a knob rendered as TOML, or `None` when it is unset by default.
pub fn default_of(knob: &Knob) -> Option<String> {
    let tree = toml::Table::try_from(Config::default()).ok()?;
    let value = tree.get(knob.section)?.get(knob.key)?;
    Some(value.to_string())
}

/// The commented sample configuration: every knob with its doc comment and default. This is
/// what `grove config` prints and what `deploy/config.toml` holds (a test keeps them equal).
pub fn sample_toml() -> String {
    let mut out = String::from(
        "# Grove server configuration: every setting with its default.\n\
         # Generated by `grove config`; layered under GROVE__SECTION__KEY environment variables\n\
         # and command-line flags (see `grove serve --help`).\n",
    );
    for (section, sdoc) in SECTIONS {
        out.push('\n');
        for line in *sdoc {
            let _ = writeln!(out, "#{line}");
        }
        let _ = writeln!(out, "[{section}]");
        for knob in KNOBS.iter().filter(|k| k.section == *section) {
            for line in knob.doc {
                let _ = writeln!(out, "#{line}");
            }
            match default_of(knob) {
                Some(v) => {
                    let _ = writeln!(out, "{} = {v}", knob.key);
                }
                None => {
                    let _ = writeln!(out, "# {} =", knob.key);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn knob(section: &str, key: &str) -> Knob {
        *KNOBS.iter().find(|k| k.section == section && k.key == key).expect("knob exists")
    }

    #[test]
    fn shipped_sample_parses_has_no_unknown_keys_and_equals_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/config.toml");
        let text = std::fs::read_to_string(&path).expect("deploy/config.toml exists");
        // deny_unknown_fields makes any stray key an error here.
        let parsed: Config = toml::from_str(&text).expect("sample parses with no unknown keys");
        assert_eq!(parsed, Config::default());
        // And the sample is exactly what the code documents (docs live once, in code).
        assert_eq!(text, sample_toml(), "regenerate with `grove config > deploy/config.toml`");
        // Loading through the layers gives the defaults too.
        let loaded = Config::load(Some(&path), Vec::new(), &[]).expect("loads");
        assert_eq!(loaded, Config::default());
    }

    #[test]
    fn defaults_match_the_documented_ports_and_dir() {
        let c = Config::default();
        assert_eq!(
            (c.service.host.as_str(), c.service.http_port, c.service.grpc_port),
            ("127.0.0.1", 6333, 6334)
        );
        assert_eq!(c.storage.data_dir, PathBuf::from("./grove-data"));
        c.validate().expect("defaults are valid");
    }

    #[test]
    fn layers_apply_in_order_file_env_flags() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[service]\nhttp_port = 7000\ngrpc_port = 7001\n[limits]\nmax_ef = 100\n")
            .expect("write");
        let env = vec![
            ("GROVE__SERVICE__HTTP_PORT".to_owned(), "8000".to_owned()),
            ("GROVE__STORAGE__DATA_DIR".to_owned(), "/tmp/x".to_owned()),
            ("PATH".to_owned(), "/bin".to_owned()),
        ];
        let flags = vec![(knob("service", "http_port"), "9000".to_owned())];
        let c = Config::load(Some(&file), env, &flags).expect("loads");
        assert_eq!(c.service.http_port, 9000, "flag beats env beats file");
        assert_eq!(c.service.grpc_port, 7001, "file beats default");
        assert_eq!(c.limits.max_ef, 100);
        assert_eq!(c.storage.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(c.limits.max_limit, LimitsConfig::default().max_limit);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors_that_name_the_source() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[service]\nhttp_prot = 7000\n").expect("write");
        let err = Config::load(Some(&file), Vec::new(), &[]).expect_err("unknown key");
        assert!(err.to_string().contains("http_prot"), "{err}");

        let env = vec![("GROVE__SERVICE__NOPE".to_owned(), "1".to_owned())];
        let err = Config::load(None, env, &[]).expect_err("unknown env");
        assert!(err.to_string().contains("GROVE__SERVICE__NOPE"), "{err}");

        let flags = vec![(knob("service", "http_port"), "many".to_owned())];
        let err = Config::load(None, Vec::new(), &flags).expect_err("bad value");
        assert!(err.to_string().contains("--service-http-port"), "{err}");

        let flags = vec![(knob("service", "http_port"), "70000".to_owned())];
        assert!(Config::load(None, Vec::new(), &flags).is_err(), "u16 overflow rejected");
    }

    #[test]
    fn validation_rejects_inconsistent_settings() {
        let mut c = Config::default();
        c.service.grpc_port = c.service.http_port;
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.security.tls_cert = Some("cert.pem".into());
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.security.read_only_api_key = Some("r".into());
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.limits.max_limit = 0;
        assert!(c.validate().is_err());
    }

    #[test]
    fn every_knob_is_documented() {
        for k in KNOBS {
            assert!(!k.doc_text().is_empty(), "{}.{} has no doc comment", k.section, k.key);
        }
    }
}
