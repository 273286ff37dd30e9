//! HTTP over ureq: moves the core's requests and responses, decides nothing.

use std::time::Duration;

use configcat_core::refresh::{FetchRequest, TransportErrorKind};
use ureq::Agent;
use ureq::config::Config as UreqConfig;

use crate::options::ProxyOptions;

/// A received response, body read within the size limit.
pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    pub(crate) etag: Option<String>,
    pub(crate) body: Vec<u8>,
}

/// A failed exchange, classified for the core.
pub(crate) struct TransportFailure {
    pub(crate) kind: TransportErrorKind,
    pub(crate) detail: String,
}

pub(crate) struct Transport {
    agent: Agent,
    max_body_bytes: usize,
}

impl Transport {
    /// # Errors
    /// The proxy url cannot be used.
    pub(crate) fn new(
        connect_timeout: Duration,
        read_timeout: Duration,
        proxy: Option<&ProxyOptions>,
        max_body_bytes: usize,
    ) -> Result<Self, String> {
        let proxy = proxy.map(ProxyOptions::to_ureq).transpose()?;
        let config: UreqConfig = Agent::config_builder()
            .timeout_connect(Some(connect_timeout))
            .timeout_recv_response(Some(read_timeout))
            .timeout_recv_body(Some(read_timeout))
            // Set explicitly: `None` also stops ureq from reading proxy environment variables.
            .proxy(proxy)
            // Redirects are the protocol's business (`p.u`/`p.r`), not HTTP's.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .http_status_as_error(false)
            .build();
        Ok(Self {
            agent: config.into(),
            max_body_bytes,
        })
    }

    pub(crate) fn get(&self, request: &FetchRequest) -> Result<HttpResponse, TransportFailure> {
        let mut builder = self.agent.get(&request.url);
        for (name, value) in request.headers() {
            builder = builder.header(name, value);
        }
        let mut response = builder.call().map_err(classify)?;
        let status = response.status().as_u16();
        let etag = response
            .headers()
            .get("etag")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = if status == 304 {
            Vec::new()
        } else {
            response
                .body_mut()
                .with_config()
                .limit(u64::try_from(self.max_body_bytes).unwrap_or(u64::MAX))
                .read_to_vec()
                .map_err(classify)?
        };
        Ok(HttpResponse { status, etag, body })
    }
}

fn classify(error: ureq::Error) -> TransportFailure {
    let kind = match &error {
        ureq::Error::Timeout(_) => TransportErrorKind::TimedOut,
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) =>
        {
            TransportErrorKind::TimedOut
        }
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::ConnectProxyFailed(_) => TransportErrorKind::ConnectionFailed,
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::AddrNotAvailable
            ) =>
        {
            TransportErrorKind::ConnectionFailed
        }
        ureq::Error::BodyExceedsLimit(_) => TransportErrorKind::BodyTooLarge,
        _ => TransportErrorKind::Other,
    };
    TransportFailure {
        kind,
        detail: error.to_string(),
    }
}
