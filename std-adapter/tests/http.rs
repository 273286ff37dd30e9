//! The HTTP side: ETag round-trip, every status, timeouts and broken
//! responses, redirects, and requests through an HTTP proxy.

// clippy.toml allows these inside `#[test]` functions only; the helpers of
// this test crate fail a test the same way.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::net::TcpListener;
use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use configcat_cdn_stand_in::{CdnStandIn, Fault, HttpProxy, basic_authorization};
use configcat_std::{
    Client, ClientError, ClientOptions, DataGovernance, Fetched, Hooks, ProxyOptions, RefreshError,
    TransportErrorKind,
};

use common::{READ_TIMEOUT, WAIT, logs, options, redirecting_config, sdk_key, text_config};

/// Hooks sending every error message to a channel.
fn error_messages() -> (Hooks, Receiver<String>) {
    let (sender, receiver) = mpsc::channel();
    let sender = Mutex::new(sender);
    let hooks = Hooks::default().on_error(move |message| {
        let _ = sender.lock().unwrap().send(message.to_owned());
    });
    (hooks, receiver)
}

fn value(client: &Client) -> String {
    client.get_value("flag", "default".to_owned(), None)
}

#[test]
fn etag_round_trip() {
    let key = sdk_key("etag_round_trip");
    let cdn = CdnStandIn::start().unwrap();
    let v1 = cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let client = Client::get(&key, options(&cdn)).unwrap();

    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    let first_fetch = client
        .get_value_details("flag", String::new(), None)
        .fetch_time_ms
        .unwrap();
    assert_eq!(cdn.requests()[0].header("if-none-match"), None);

    assert_eq!(client.force_refresh(), Ok(Fetched::NotModified));
    assert_eq!(cdn.requests()[1].header("if-none-match"), Some(&*v1));
    let details = client.get_value_details("flag", String::new(), None);
    assert_eq!(details.value, "one");
    assert!(
        details.fetch_time_ms.unwrap() >= first_fetch,
        "a 304 confirms the config"
    );

    let v2 = cdn.set_config(&text_config(&cdn.base_url(), "flag", "two"));
    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    assert_eq!(cdn.requests()[2].header("if-none-match"), Some(&*v1));
    assert_eq!(value(&client), "two");
    assert_eq!(client.force_refresh(), Ok(Fetched::NotModified));
    assert_eq!(cdn.requests()[3].header("if-none-match"), Some(&*v2));
    assert_eq!(cdn.request_count(), 4);
    client.close();
}

#[test]
fn force_refresh_reports_every_status_and_keeps_the_last_good_config() {
    let key = sdk_key("every_status");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let (hooks, errors) = error_messages();
    let client = Client::get(&key, options(&cdn).with_hooks(hooks)).unwrap();

    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    assert_eq!(client.force_refresh(), Ok(Fetched::NotModified));

    let cases: [(Fault, RefreshError, &str); 4] = [
        (
            Fault::Status(500),
            RefreshError::UnexpectedStatus { status: 500 },
            "Unexpected HTTP response was received while trying to fetch config JSON: 500",
        ),
        (
            Fault::Status(429),
            RefreshError::UnexpectedStatus { status: 429 },
            "Unexpected HTTP response was received while trying to fetch config JSON: 429",
        ),
        (
            Fault::Status(403),
            RefreshError::InvalidSdkKey { status: 403 },
            "Your SDK Key seems to be wrong",
        ),
        (
            Fault::Status(502),
            RefreshError::UnexpectedStatus { status: 502 },
            "502",
        ),
    ];
    for (fault, expected, message) in cases {
        cdn.set_fault_for(fault, 1);
        let result = client.force_refresh();
        assert_eq!(result, Err(expected.clone()));
        assert_eq!(
            result.unwrap_err().is_transient(),
            !matches!(expected, RefreshError::InvalidSdkKey { .. })
        );
        let reported = errors.recv_timeout(WAIT).unwrap();
        assert!(reported.contains(message), "{reported}");
        assert_eq!(value(&client), "one", "the last good config stays");
    }

    // 404: no config at that path (a wrong key).
    cdn.clear_config();
    assert_eq!(
        client.force_refresh(),
        Err(RefreshError::InvalidSdkKey { status: 404 })
    );
    let reported = errors.recv_timeout(WAIT).unwrap();
    assert!(reported.ends_with("404"), "{reported}");
    assert_eq!(value(&client), "one");

    // 200 with a body that is not a config.
    for body in [&b"{not json"[..], b"[]", b"", br#"{"f":[]}"#] {
        cdn.set_fault_for(Fault::Body(body.to_vec()), 1);
        let result = client.force_refresh();
        assert!(
            matches!(result, Err(RefreshError::InvalidBody(_))),
            "{body:?}: {result:?}"
        );
        let reported = errors.recv_timeout(WAIT).unwrap();
        assert!(
            reported.contains("the HTTP response content was invalid"),
            "{reported}"
        );
        assert_eq!(value(&client), "one");
    }

    cdn.set_config(&text_config(&cdn.base_url(), "flag", "two"));
    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    assert_eq!(value(&client), "two");

    client.set_offline();
    assert_eq!(client.force_refresh(), Err(RefreshError::Offline));
    client.close();
}

#[test]
fn a_stalled_server_times_out_within_the_read_timeout() {
    let key = sdk_key("stalled_read_timeout");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let client = Client::get(&key, options(&cdn)).unwrap();
    assert_eq!(client.force_refresh(), Ok(Fetched::New));

    cdn.set_fault(Fault::Stall(Duration::from_secs(30)));
    let started = Instant::now();
    let result = client.force_refresh();
    let elapsed = started.elapsed();
    let Err(RefreshError::Transport {
        kind: TransportErrorKind::TimedOut,
        detail,
    }) = &result
    else {
        panic!("{result:?}");
    };
    assert!(
        detail.contains("Timeout values: [connect: 0.3s, read: 0.3s]"),
        "{detail}"
    );
    // A timeout, not the stall's end 30 s later (TimedOut says which).
    assert!(
        elapsed >= READ_TIMEOUT - Duration::from_millis(50),
        "{elapsed:?}"
    );
    assert_eq!(value(&client), "one");
    drop(cdn);
    client.close();
}

#[test]
fn a_slow_body_times_out_within_the_read_timeout() {
    let key = sdk_key("slow_body_timeout");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    // ~30 chunks 100 ms apart: the whole body would take 3 s.
    cdn.set_fault(Fault::SlowBody {
        chunk_delay: Duration::from_millis(100),
    });
    let client = Client::get(&key, options(&cdn)).unwrap();
    let result = client.force_refresh();
    assert!(
        matches!(
            result,
            Err(RefreshError::Transport {
                kind: TransportErrorKind::TimedOut,
                ..
            })
        ),
        "{result:?}"
    );
    // The whole body would take 3 s; the read timeout ended it (TimedOut says so).
    assert_eq!(value(&client), "default");
    drop(cdn);
    client.close();
}

#[test]
fn broken_responses_are_transport_errors() {
    let key = sdk_key("broken_responses");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let client = Client::get(&key, options(&cdn)).unwrap();
    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "two"));
    for fault in [Fault::ResetMidBody, Fault::TruncatedBody] {
        cdn.set_fault_for(fault.clone(), 1);
        let result = client.force_refresh();
        assert!(
            matches!(result, Err(RefreshError::Transport { .. })),
            "{fault:?}: {result:?}"
        );
        assert_eq!(value(&client), "one", "{fault:?}");
    }
    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    assert_eq!(value(&client), "two");
    client.close();
}

#[test]
fn a_refused_connection_is_a_transport_error() {
    let key = sdk_key("connection_refused");
    // A port nothing listens on any more.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::get(
        &key,
        ClientOptions::default()
            .with_base_url(format!("http://127.0.0.1:{port}"))
            .with_manual_polling()
            .with_connect_timeout(Duration::from_millis(300))
            .with_read_timeout(READ_TIMEOUT),
    )
    .unwrap();
    let result = client.force_refresh();
    assert!(
        matches!(
            result,
            Err(RefreshError::Transport {
                kind: TransportErrorKind::ConnectionFailed,
                ..
            })
        ),
        "{result:?}"
    );
    client.close();
}

#[test]
fn a_body_over_the_size_limit_is_rejected() {
    let key = sdk_key("body_too_large");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let client = Client::get(&key, options(&cdn).with_max_body_bytes(16)).unwrap();
    let result = client.force_refresh();
    assert!(
        matches!(
            result,
            Err(RefreshError::Transport {
                kind: TransportErrorKind::BodyTooLarge,
                ..
            })
        ),
        "{result:?}"
    );
    client.close();
}

#[test]
fn a_forced_redirect_is_followed_and_later_requests_go_to_the_new_url() {
    let key = sdk_key("forced_redirect");
    let first = CdnStandIn::start().unwrap();
    let second = CdnStandIn::start().unwrap();
    first.set_config(&redirecting_config(&second.base_url(), 2, "first"));
    second.set_config(&redirecting_config(&second.base_url(), 0, "second"));
    let client = Client::get(&key, options(&first)).unwrap();

    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    assert_eq!(value(&client), "second");
    assert_eq!((first.request_count(), second.request_count()), (1, 1));
    assert_eq!(
        second.requests()[0].path,
        format!("/configuration-files/{key}/config_v6.json")
    );

    assert_eq!(client.force_refresh(), Ok(Fetched::NotModified));
    assert_eq!((first.request_count(), second.request_count()), (1, 2));
    client.close();
}

#[test]
fn should_and_no_redirect_are_ignored_with_a_custom_base_url() {
    for mode in [0, 1] {
        let key = sdk_key(&format!("ignored_redirect_{mode}"));
        let first = CdnStandIn::start().unwrap();
        let second = CdnStandIn::start().unwrap();
        first.set_config(&redirecting_config(&second.base_url(), mode, "first"));
        second.set_config(&redirecting_config(&second.base_url(), 0, "second"));
        let client = Client::get(&key, options(&first)).unwrap();
        assert_eq!(client.force_refresh(), Ok(Fetched::New), "mode {mode}");
        assert_eq!(value(&client), "first", "mode {mode}");
        assert_eq!(client.force_refresh(), Ok(Fetched::NotModified));
        assert_eq!(first.request_count(), 2, "mode {mode}");
        assert_eq!(second.request_count(), 0, "mode {mode}");
        client.close();
    }
}

#[test]
fn a_redirect_loop_stops_after_three_requests() {
    let key = sdk_key("redirect_loop");
    let first = CdnStandIn::start().unwrap();
    let second = CdnStandIn::start().unwrap();
    first.set_config(&redirecting_config(&second.base_url(), 2, "first"));
    second.set_config(&redirecting_config(&first.base_url(), 2, "second"));
    let (hooks, errors) = error_messages();
    let client = Client::get(&key, options(&first).with_hooks(hooks)).unwrap();

    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    // first -> second -> first, then the loop is detected.
    assert_eq!((first.request_count(), second.request_count()), (2, 1));
    assert_eq!(value(&client), "first");
    let reported = errors.recv_timeout(WAIT).unwrap();
    assert!(reported.contains("Redirection loop"), "{reported}");
    assert!(
        !reported.contains(&key),
        "the SDK key is masked: {reported}"
    );
    client.close();
}

#[test]
fn proxy_keys_never_follow_redirects() {
    let key = format!("configcat-proxy/{}", &sdk_key("proxy_key_redirect")[16..]);
    let first = CdnStandIn::start().unwrap();
    let second = CdnStandIn::start().unwrap();
    first.set_config(&redirecting_config(&second.base_url(), 2, "first"));
    second.set_config(&redirecting_config(&second.base_url(), 0, "second"));
    let client = Client::get(&key, options(&first)).unwrap();
    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    assert_eq!(value(&client), "first");
    assert_eq!(
        first.requests()[0].path,
        format!("/configuration-files/{key}/config_v6.json")
    );
    assert_eq!(second.request_count(), 0);
    client.close();
}

#[test]
fn a_proxy_key_needs_a_custom_base_url() {
    let result = Client::get("configcat-proxy/some-proxy-key", ClientOptions::default());
    assert!(matches!(result, Err(ClientError::InvalidSdkKey(_))));
}

#[test]
fn requests_go_through_the_http_proxy_with_its_credentials() {
    let key = sdk_key("through_proxy");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let (user, password) = ("proxy-user", "s3cret:pass");
    let proxy = HttpProxy::start(Some((user.to_owned(), password.to_owned()))).unwrap();
    let client = Client::get(
        &key,
        options(&cdn).with_proxy(ProxyOptions::new(proxy.url()).with_credentials(user, password)),
    )
    .unwrap();

    assert_eq!(client.force_refresh(), Ok(Fetched::New));
    assert_eq!(value(&client), "one");
    assert_eq!(client.force_refresh(), Ok(Fetched::NotModified));
    assert_eq!(cdn.request_count(), 2, "both requests reached the CDN");
    assert_eq!(proxy.request_count(), 2, "both went through the proxy");
    let expected = basic_authorization(user, password);
    for authorization in proxy.authorizations() {
        assert_eq!(authorization.as_deref(), Some(&*expected));
    }
    let authority = cdn.base_url().trim_start_matches("http://").to_owned();
    for request in proxy.requests() {
        assert!(
            request == format!("CONNECT {authority}")
                || request.starts_with(&format!("GET http://{authority}/")),
            "{request}"
        );
    }
    client.close();
}

#[test]
fn data_governance_chooses_the_cdn_host() {
    // Without a custom base url the client asks ConfigCat's CDN; the test
    // proxy only reaches 127.0.0.1, so it records the CONNECT target and
    // refuses it: no request leaves the machine.
    for (governance, host) in [
        (DataGovernance::Global, "cdn-global.configcat.com:443"),
        (DataGovernance::EuOnly, "cdn-eu.configcat.com:443"),
    ] {
        let key = sdk_key(&format!("data_governance_{governance:?}"));
        let proxy = HttpProxy::start(None).unwrap();
        let client = Client::get(
            &key,
            ClientOptions::default()
                .with_manual_polling()
                .with_data_governance(governance)
                .with_connect_timeout(Duration::from_millis(300))
                .with_read_timeout(READ_TIMEOUT)
                .with_proxy(ProxyOptions::new(proxy.url())),
        )
        .unwrap();
        let result = client.force_refresh();
        assert!(
            matches!(result, Err(RefreshError::Transport { .. })),
            "{result:?}"
        );
        assert_eq!(proxy.requests(), [format!("CONNECT {host}")]);
        client.close();
    }
}

#[test]
fn wrong_proxy_credentials_fail_the_refresh() {
    let key = sdk_key("proxy_wrong_credentials");
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let proxy = HttpProxy::start(Some(("user".to_owned(), "right".to_owned()))).unwrap();
    let client = Client::get(
        &key,
        options(&cdn).with_proxy(ProxyOptions::new(proxy.url()).with_credentials("user", "wrong")),
    )
    .unwrap();
    let result = client.force_refresh();
    let Err(RefreshError::Transport {
        kind: TransportErrorKind::ConnectionFailed,
        detail,
    }) = &result
    else {
        panic!("{result:?}");
    };
    assert!(detail.contains("407"), "{detail}");
    assert_eq!(proxy.request_count(), 1);
    assert_eq!(cdn.request_count(), 0);
    client.close();
}

#[test]
fn an_unusable_proxy_url_is_rejected() {
    let key = sdk_key("proxy_bad_url");
    let result = Client::get(
        &key,
        ClientOptions::default().with_proxy(ProxyOptions::new("socks5://127.0.0.1:1")),
    );
    assert!(matches!(result, Err(ClientError::InvalidProxy(_))));
    // Nothing was registered: a good client can be made with the key.
    let client = Client::get(&key, ClientOptions::default().with_manual_polling()).unwrap();
    client.close();
}

#[test]
fn fetch_errors_are_logged_with_their_event_id() {
    let key = sdk_key("fetch_errors_logged");
    let logs = logs();
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_fault(Fault::Status(418));
    let client = Client::get(&key, options(&cdn)).unwrap();
    assert_eq!(
        client.force_refresh(),
        Err(RefreshError::UnexpectedStatus { status: 418 })
    );
    let records = logs.matching("fetch config JSON: 418");
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].level, log::Level::Error);
    assert_eq!(records[0].target, "configcat");
    assert!(records[0].message.starts_with("[1101] "), "{records:?}");
    client.close();
}
