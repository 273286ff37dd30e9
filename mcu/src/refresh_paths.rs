//! The firmware's one use of the core's refresh items
//! (`configcat_core::refresh`): hostile bytes handed to the refresh state
//! machine as a cache payload and as a fetched body.

use alloc::format;
use alloc::string::String;

use configcat_core::refresh::{
    CacheEntry, FetchResponse, FetchStep, Instant, PollingMode, RefreshOptions, Refresher,
};
use configcat_core::{Config, LogSink};

const SDK_KEY: &str = "configcat-sdk-1/PKDVCLf-Hq-h-kCzMp-L7Q/HhOWfwVtZ0mb30i9wi17GQ";

/// Reads `data` as a shared-cache payload, and hands it to a refresher too.
///
/// # Errors
/// The payload's error message when it is rejected.
pub fn cache_payload(data: &[u8], sink: &dyn LogSink) -> Result<Config, String> {
    let text = core::str::from_utf8(data).map_err(|e| format!("not UTF-8: {e}"))?;
    let options = RefreshOptions::new(PollingMode::Auto {
        interval_ms: 60_000,
        max_init_wait_ms: 5_000,
    });
    let mut refresher =
        Refresher::new(SDK_KEY, options, Instant::ZERO).map_err(|e| format!("{e}"))?;
    let _ = refresher.handle_cache_payload(Instant::from_millis(1_000), 1_000, text, sink);
    let (entry, config) = CacheEntry::parse_payload(text).map_err(|e| format!("{e}"))?;
    let _ = CacheEntry::parse_payload(&entry.payload());
    Ok(config)
}

/// Hands `data` to a refresher as the body of a 200 response with an ETag.
///
/// # Errors
/// The refresh error's message when the body is rejected.
pub fn fetched_body(data: &[u8], sink: &dyn LogSink) -> Result<Config, String> {
    // The refresher copies the body onto the heap; the embedded client caps
    // bodies at this size before they reach it, and so does this path.
    if data.len() > configcat_embedded::DEFAULT_MAX_BODY_BYTES {
        return Err(format!(
            "body of {} bytes is over the embedded client's limit of {}",
            data.len(),
            configcat_embedded::DEFAULT_MAX_BODY_BYTES
        ));
    }
    let options = RefreshOptions::new(PollingMode::Manual);
    let mut refresher =
        Refresher::new(SDK_KEY, options, Instant::ZERO).map_err(|e| format!("{e}"))?;
    refresher
        .start_fetch(Instant::from_millis(1), sink)
        .map_err(|e| format!("{e}"))?;
    let response = FetchResponse::new(200, Some("\"e\""), data);
    match refresher.handle_response(Instant::from_millis(2), 2, response, sink) {
        FetchStep::Done(update) => match (update.result, update.new_config) {
            (Err(error), _) => Err(format!("{error}")),
            (Ok(_), Some(config)) => Ok(config),
            (Ok(fetched), None) => Err(format!("no new config ({fetched:?})")),
        },
        FetchStep::Fetch(request) => Err(format!("redirected to {}", request.url)),
    }
}
