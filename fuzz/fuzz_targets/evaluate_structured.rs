//! Evaluation of generated configs and users: the fuzzer picks the config's
//! structure (rules, comparators, segments, prerequisites, % options) rather
//! than its bytes, so the comparators themselves are reached. Every generated
//! document is well-formed JSON of the config shape, so it must parse: a
//! broken condition may fail its flag, never the document.
#![no_main]

use configcat_core::Config;
use configcat_fuzz::exercise;
use configcat_fuzz::structured::Scenario;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|scenario: Scenario| {
    let json = scenario.config.to_json();
    let config = Config::parse(json.as_bytes())
        .unwrap_or_else(|e| panic!("a generated config was rejected: {e}\n{json}"));
    assert_eq!(config.keys().count(), scenario.config.setting_count());
    let user = scenario.user.as_ref().map(|u| u.to_user());
    exercise(&config, user.as_ref(), "missing");
    // The same flags without a user: conditions report a missing user, % options fall back.
    exercise(&config, None, "f0");
});
