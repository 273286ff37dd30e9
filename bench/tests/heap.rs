//! The heap a parsed config holds stays within twice the size of its JSON
//! (the P1 target for the 1.1 MB generated config). `cargo run --release -p
//! configcat-bench --bin heap` prints the figures for every config.
#![cfg(test)]

use configcat_bench::Suite;
use configcat_core::Config;

#[test]
fn parsed_large_config_holds_at_most_twice_its_json() {
    let suite = match Suite::load() {
        Ok(suite) => suite,
        Err(error) => {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{error}");
            eprintln!("!!! heap test NOT run: {error}");
            return;
        }
    };
    let file = suite.configs.get("LARGE").unwrap();
    let mut held = None;
    let info = allocation_counter::measure(|| held = Some(Config::parse(&file.json).unwrap()));
    let json = i64::try_from(file.json.len()).unwrap();
    eprintln!(
        "LARGE: {} bytes of JSON, the parsed config holds {} bytes in {} blocks ({:.2}x)",
        json,
        info.bytes_current,
        info.count_current,
        info.bytes_current as f64 / json as f64
    );
    assert!(info.bytes_current <= 2 * json);
    drop(held);
}
