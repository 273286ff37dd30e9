//! `Client::close_all`, in a test binary of its own: it closes every client
//! of the process, which would disturb tests running in parallel with it.

// clippy.toml allows these inside `#[test]` functions only; the helpers of
// this test crate fail a test the same way.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use configcat_cdn_stand_in::CdnStandIn;
use configcat_std::Client;

use common::{POLL_INTERVAL, WAIT, auto_options, options, sdk_key, text_config};

#[test]
fn close_all_closes_every_client_and_empties_the_registry() {
    let cdn = CdnStandIn::start().unwrap();
    cdn.set_config(&text_config(&cdn.base_url(), "flag", "one"));
    let polling = Client::get(&sdk_key("close_all_polling"), auto_options(&cdn)).unwrap();
    let manual = Client::get(&sdk_key("close_all_manual"), options(&cdn)).unwrap();
    assert!(cdn.wait_for_requests(2, WAIT), "the poller runs");

    Client::close_all();
    assert!(polling.is_closed());
    assert!(manual.is_closed());
    let count = cdn.request_count();
    assert!(
        !cdn.wait_for_requests(count + 1, POLL_INTERVAL * 3),
        "the poller stopped"
    );
    assert_eq!(polling.get_value("flag", String::new(), None), "one");

    // The registry is empty: the same keys give new clients.
    let again = Client::get(&sdk_key("close_all_manual"), options(&cdn)).unwrap();
    assert!(!again.is_closed());
    assert_eq!(again.get_value("flag", "none".to_owned(), None), "none");
    Client::close_all();
    assert!(again.is_closed());
    // Closing an already closed client is harmless.
    polling.close();
    manual.close();
}
