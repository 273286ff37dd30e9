//! The refresh state machine driven by a fuzzer-chosen script: fetches
//! answered with any status, ETag and body (good configs, redirecting
//! configs, truncated and arbitrary bytes), transport failures, cache
//! payloads, timers, monotonic and wall-clock jumps and offline switches,
//! in any order.
//!
//! What must hold: nothing panics; the config the adapter publishes only
//! ever comes from a complete, valid body or payload; a failed refresh
//! publishes nothing and writes nothing (a 403/404 may only re-confirm the
//! config it has); every cache payload the refresher asks to write reads
//! back as its current entry; redirects end within a bounded number of
//! requests; every failure is reported by exactly one log event; an answer
//! with no fetch in flight is refused and changes nothing; after
//! `handle_timeout` says nothing is due, the next deadline is in the future
//! (an adapter's timer loop never spins).
#![no_main]

use arbitrary::Arbitrary;
use configcat_core::Config;
use configcat_core::refresh::{
    CacheEntry, Due, FetchRequest, FetchResponse, FetchStep, Instant, PollingMode, RefreshError,
    RefreshOptions, RefreshUpdate, Refresher, TransportErrorKind,
};
use configcat_fuzz::FormattingSink;
use libfuzzer_sys::fuzz_target;

const SDK_KEY: &str = "configcat-sdk-1/PKDVCLf-Hq-h-kCzMp-L7Q/HhOWfwVtZ0mb30i9wi17GQ";
const PROXY_KEY: &str = "configcat-proxy/my-profile";

/// Good bodies: plain, and with every redirect instruction to this host or another.
const BODIES: &[&str] = &[
    r#"{"f":{"flag":{"t":0,"v":{"b":true}}}}"#,
    r#"{"p":{"u":"https://cdn-global.configcat.com","r":0},"f":{"flag":{"t":0,"v":{"b":false}}}}"#,
    r#"{"p":{"u":"https://cdn-eu.configcat.com","r":1},"f":{"flag":{"t":1,"v":{"s":"eu"}}}}"#,
    r#"{"p":{"u":"https://cdn-global.configcat.com","r":2},"f":{"flag":{"t":2,"v":{"i":2}}}}"#,
    r#"{"p":{"u":"https://cdn-eu.configcat.com","r":2},"f":{"flag":{"t":3,"v":{"d":2.5}}}}"#,
    r#"{"p":{"u":"http://127.0.0.1:1","r":2,"s":"x"},"f":{}}"#,
    r#"{"p":{"u":"","r":1},"f":{}}"#,
];

#[derive(Arbitrary, Debug)]
enum Body {
    Good(u8),
    Truncated(u8, u16),
    Bytes(Vec<u8>),
}

impl Body {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Self::Good(i) => pick(*i).as_bytes().to_vec(),
            Self::Truncated(i, cut) => {
                let body = pick(*i).as_bytes();
                body.get(..usize::from(*cut) % body.len().max(1))
                    .unwrap_or(body)
                    .to_vec()
            }
            Self::Bytes(bytes) => bytes.clone(),
        }
    }
}

fn pick(i: u8) -> &'static str {
    BODIES
        .get(usize::from(i) % BODIES.len())
        .copied()
        .unwrap_or("{}")
}

#[derive(Arbitrary, Debug)]
enum Status {
    Ok,
    NotModified,
    Forbidden,
    NotFound,
    ServerError,
    Any(u16),
}

impl Status {
    fn code(&self) -> u16 {
        match self {
            Self::Ok => 200,
            Self::NotModified => 304,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::ServerError => 500,
            Self::Any(code) => *code,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Transport {
    TimedOut,
    ConnectionFailed,
    BodyTooLarge,
    Other,
}

#[derive(Arbitrary, Debug)]
enum Step {
    /// A refresh: the responses to its request and to any redirects it makes.
    Fetch(Vec<(Status, Option<String>, Body, bool)>, Transport),
    /// The response arrives without a request in flight.
    Stray(Status, Option<String>, Body),
    CachePayload(String),
    CacheOfGood(u64, String, u8),
    /// The timer fires: whatever is due is done, a fetch answered like `Fetch`'s.
    Timer(Vec<(Status, Option<String>, Body, bool)>, Transport),
    Advance(u32),
    /// The wall clock alone steps (NTP): back when negative.
    WallStep(i32),
    Offline(bool),
}

#[derive(Arbitrary, Debug)]
struct Script {
    mode: u8,
    interval: u16,
    custom_base_url: bool,
    proxy_key: bool,
    confirmation_payloads: bool,
    owned_bodies: bool,
    follow_cache: bool,
    steps: Vec<Step>,
}

/// The adapter's side: what it published and what it wrote to its cache.
struct Adapter {
    published: Option<Config>,
    cache: Option<String>,
}

fn polling(mode: u8, interval: u16) -> PollingMode {
    let ms = u64::from(interval) + 1;
    match mode % 3 {
        0 => PollingMode::Auto {
            interval_ms: ms,
            max_init_wait_ms: ms / 2,
        },
        1 => PollingMode::Lazy { ttl_ms: ms },
        _ => PollingMode::Manual,
    }
}

fn check_update(
    update: &RefreshUpdate,
    status: Option<u16>,
    refresher: &Refresher,
    adapter: &mut Adapter,
) {
    match &update.result {
        Ok(_) => {}
        Err(error) => {
            assert!(
                update.new_config.is_none(),
                "a failed refresh published a config: {error}"
            );
            let confirms = matches!(error, RefreshError::InvalidSdkKey { .. });
            assert!(
                update.cache_payload.is_none() || confirms,
                "a failed refresh wrote the cache: {error}"
            );
            if let RefreshError::InvalidSdkKey { status: got } = error {
                assert_eq!(Some(*got), status);
            }
        }
    }
    if let Some(payload) = &update.cache_payload {
        let entry = refresher
            .entry()
            .unwrap_or_else(|| panic!("a payload without an entry"));
        assert_eq!(
            payload,
            &entry.payload(),
            "the payload is the current entry"
        );
        // It reads back, unless it is one ConfigCat's SDKs would not read
        // either (no ETag from the server).
        if !entry.etag().is_empty() {
            let (read, _) = CacheEntry::parse_payload(payload)
                .unwrap_or_else(|e| panic!("a written payload does not read back: {e}"));
            assert_eq!(&read, entry, "the payload reads back as written");
        }
        adapter.cache = Some(payload.clone());
    }
    if let Some(config) = &update.new_config {
        let entry = refresher
            .entry()
            .unwrap_or_else(|| panic!("a config without an entry"));
        assert!(
            Config::parse(entry.config_json().as_bytes()).is_ok(),
            "the entry holds a valid config"
        );
        assert_eq!(
            config.keys().count(),
            Config::parse(entry.config_json().as_bytes())
                .map(|c| c.keys().count())
                .unwrap_or(usize::MAX)
        );
    }
    if let Some(config) = &update.new_config {
        adapter.published = Some(config.clone());
    }
}

/// One refresh from its first request to its end: the scripted responses
/// in order, then a transport failure when they run out.
fn run_fetch(
    refresher: &mut Refresher,
    adapter: &mut Adapter,
    key: &str,
    clocks: (Instant, u64),
    owned_bodies: bool,
    mut request: FetchRequest,
    (responses, failure): (&[(Status, Option<String>, Body, bool)], &Transport),
) {
    let (now, unix_ms) = clocks;
    let sink = FormattingSink::default();
    let mut requests = 1;
    let mut responses = responses.iter();
    loop {
        assert!(refresher.is_fetching());
        assert!(request.url.ends_with("/config_v6.json"));
        assert!(request.url.contains(key), "requests go for this key");
        let entry_etag = refresher
            .entry()
            .map(|e| e.etag().to_owned())
            .filter(|etag| !etag.is_empty());
        assert_eq!(request.if_none_match.as_deref(), entry_etag.as_deref());
        let Some((status, etag, body, _)) = responses.next() else {
            // The script ran out of responses: the transport fails.
            let before = sink.events();
            let kind = match failure {
                Transport::TimedOut => TransportErrorKind::TimedOut,
                Transport::ConnectionFailed => TransportErrorKind::ConnectionFailed,
                Transport::BodyTooLarge => TransportErrorKind::BodyTooLarge,
                Transport::Other => TransportErrorKind::Other,
            };
            let update = refresher.handle_transport_error(kind, "detail", &sink);
            assert!(update.result.is_err());
            assert_eq!(
                sink.events(),
                before + 1,
                "a transport failure is reported once"
            );
            check_update(&update, None, refresher, adapter);
            break;
        };
        let bytes = body.bytes();
        let code = status.code();
        let before = sink.events();
        let step = if owned_bodies {
            refresher.handle_owned_response(now, unix_ms, code, etag.as_deref(), bytes, &sink)
        } else {
            refresher.handle_response(
                now,
                unix_ms,
                FetchResponse::new(code, etag.as_deref(), &bytes),
                &sink,
            )
        };
        match step {
            FetchStep::Fetch(next) => {
                requests += 1;
                assert!(
                    requests <= 3,
                    "a redirect chain longer than the protocol allows"
                );
                request = next;
            }
            FetchStep::Done(update) => {
                if update.result.is_err() {
                    assert!(sink.events() > before, "a failure that was not reported");
                }
                check_update(&update, Some(code), refresher, adapter);
                break;
            }
        }
    }
    assert!(!refresher.is_fetching(), "the refresh ended");
}

fuzz_target!(|script: Script| {
    let mut options = RefreshOptions::new(polling(script.mode, script.interval))
        .with_confirmation_payloads(script.confirmation_payloads)
        .with_follow_cache(script.follow_cache);
    if script.custom_base_url {
        options = options.with_base_url("http://127.0.0.1:8080/");
    }
    let key = if script.proxy_key && script.custom_base_url {
        PROXY_KEY
    } else {
        SDK_KEY
    };
    let Ok(mut refresher) = Refresher::new(key, options, Instant::ZERO) else {
        panic!("the test SDK keys are valid");
    };
    let mut adapter = Adapter {
        published: None,
        cache: None,
    };
    let mut now = Instant::ZERO;
    let mut unix_ms: u64 = 1_700_000_000_000;

    for step in script.steps.iter().take(64) {
        // Every query the adapters make must answer, whatever the state.
        let _ = (
            refresher.poll_timeout(),
            refresher.cache_state(now),
            refresher.is_initialized(),
            refresher.timer_driven(),
        );
        match step {
            Step::Fetch(responses, failure) => {
                let sink = FormattingSink::default();
                let Ok(request) = refresher.start_fetch(now, &sink) else {
                    assert!(sink.events() <= 1);
                    continue;
                };
                let clocks = (now, unix_ms);
                let script_responses = (responses.as_slice(), failure);
                run_fetch(
                    &mut refresher,
                    &mut adapter,
                    key,
                    clocks,
                    script.owned_bodies,
                    request,
                    script_responses,
                );
            }
            Step::Timer(responses, failure) => {
                if refresher
                    .poll_timeout()
                    .is_none_or(|deadline| deadline > now)
                {
                    continue;
                }
                let sink = FormattingSink::default();
                match refresher.handle_timeout(now, &sink) {
                    Some(Due::Fetch(request)) => {
                        let clocks = (now, unix_ms);
                        let script_responses = (responses.as_slice(), failure);
                        run_fetch(
                            &mut refresher,
                            &mut adapter,
                            key,
                            clocks,
                            script.owned_bodies,
                            request,
                            script_responses,
                        );
                    }
                    Some(Due::ReadCache) => {
                        assert!(script.follow_cache, "a cache read nobody asked for");
                        let payload = adapter.cache.clone().unwrap_or_default();
                        if let Some(config) =
                            refresher.handle_cache_payload(now, unix_ms, &payload, &sink)
                        {
                            adapter.published = Some(config);
                        }
                    }
                    Some(Due::InitWaitExpired) => {
                        assert!(refresher.is_initialized());
                        assert_eq!(sink.events(), 1, "4200 is logged");
                    }
                    None => assert!(
                        refresher
                            .poll_timeout()
                            .is_none_or(|deadline| deadline > now),
                        "nothing due, yet the deadline has passed: a timer would spin"
                    ),
                }
            }
            Step::Stray(status, etag, body) => {
                let bytes = body.bytes();
                let sink = FormattingSink::default();
                let before = refresher.entry().cloned();
                let FetchStep::Done(update) = refresher.handle_response(
                    now,
                    unix_ms,
                    FetchResponse::new(status.code(), etag.as_deref(), &bytes),
                    &sink,
                ) else {
                    panic!("a response with no fetch in flight asked for a redirect");
                };
                assert_eq!(update.result, Err(RefreshError::NoFetchInFlight));
                assert!(update.new_config.is_none() && update.cache_payload.is_none());
                assert_eq!(
                    refresher.entry(),
                    before.as_ref(),
                    "a stray response changed the entry"
                );
                assert_eq!(sink.events(), 0);
            }
            Step::CachePayload(payload) => {
                let sink = FormattingSink::default();
                let before = refresher.entry().cloned();
                match refresher.handle_cache_payload(now, unix_ms, payload, &sink) {
                    Some(config) => {
                        let entry = refresher
                            .entry()
                            .unwrap_or_else(|| panic!("adopted without entry"));
                        assert!(entry.payload().len() <= payload.len() + 20);
                        adapter.published = Some(config);
                    }
                    None => {
                        if CacheEntry::parse_payload(payload).is_err() {
                            assert_eq!(
                                refresher.entry(),
                                before.as_ref(),
                                "an invalid payload changed the entry"
                            );
                        }
                    }
                }
            }
            Step::CacheOfGood(time, etag, i) => {
                let payload = CacheEntry::new(*time, etag, pick(*i)).payload();
                let sink = FormattingSink::default();
                if let Some(config) = refresher.handle_cache_payload(now, unix_ms, &payload, &sink)
                {
                    adapter.published = Some(config);
                }
            }
            Step::Advance(ms) => {
                now = now.saturating_add_millis(u64::from(*ms));
                unix_ms = unix_ms.saturating_add(u64::from(*ms));
            }
            Step::WallStep(ms) => unix_ms = unix_ms.saturating_add_signed(i64::from(*ms)),
            Step::Offline(offline) => {
                let sink = FormattingSink::default();
                let changed = refresher.set_offline(*offline, &sink);
                assert_eq!(
                    changed,
                    sink.events() == 1,
                    "a state change is reported once"
                );
                assert_eq!(refresher.is_offline(), *offline);
            }
        }
        // The published config is always the refresher's current entry.
        if let (Some(published), Some(entry)) = (&adapter.published, refresher.entry()) {
            let Ok(from_entry) = Config::parse(entry.config_json().as_bytes()) else {
                panic!("the current entry is not a valid config");
            };
            assert_eq!(
                published.keys().collect::<Vec<_>>(),
                from_entry.keys().collect::<Vec<_>>()
            );
        }
    }
    let _ = adapter.cache;
});
