//! A test double of ConfigCat's CDN and a loopback-only HTTP forward proxy.
//!
//! Both speak hand-written HTTP/1.1 over `std::net` (one request per
//! connection, `Connection: close`), bind `127.0.0.1:0` only, serve from
//! background threads and shut down (joining every thread) when dropped.
//!
//! - [`CdnStandIn`] serves a config JSON at every
//!   `/configuration-files/<sdk key>/config_v6.json` path with an ETag,
//!   answers `304 Not Modified` to a matching `If-None-Match`, records every
//!   request and can inject transport faults ([`Fault`]).
//! - [`HttpProxy`] tunnels `CONNECT` requests and forwards absolute-form
//!   requests, optionally requiring Basic proxy authentication, and refuses
//!   any target that is not `127.0.0.1` / `localhost`.
//!
//! ```
//! use configcat_cdn_stand_in::CdnStandIn;
//!
//! let cdn = CdnStandIn::start()?;
//! let etag = cdn.set_config(r#"{"f":{}}"#);
//! assert_eq!(etag, "\"v1\"");
//! assert!(cdn.base_url().starts_with("http://127.0.0.1:"));
//! # Ok::<(), std::io::Error>(())
//! ```

mod base64;
mod cdn;
mod http;
mod proxy;
mod server;
mod versioned;

pub use cdn::{CdnStandIn, Fault, RecordedRequest};
pub use proxy::{HttpProxy, basic_authorization};
pub use versioned::{VERSIONED_CONFIG_SETTINGS, holds_version, versioned_config};
