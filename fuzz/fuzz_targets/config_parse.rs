//! Config JSON from the CDN or a cache: any bytes. Parsing never panics, and
//! whatever parses evaluates without panicking and keeps the invariants of
//! `configcat_fuzz::exercise`, with and without a user.
#![no_main]

use configcat_core::Config;
use configcat_fuzz::{exercise, sample_user};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(config) = Config::parse(data) else {
        return;
    };
    exercise(&config, None, "missing");
    exercise(&config, Some(&sample_user()), "");
});
