//! A flag-override file: any bytes. Parsing never panics; a parsed override
//! merges with a remote config under every behaviour, and the merged config
//! serves the local values where the behaviour says local wins.
#![no_main]

use configcat_core::{Config, NoLog, OverrideBehaviour};
use configcat_fuzz::{exercise, sample_user};
use libfuzzer_sys::fuzz_target;

const REMOTE: &[u8] = br#"{"p":{"s":"salt"},"f":{
  "enabled":{"t":0,"v":{"b":false},"i":"r1"},
  "greeting":{"t":1,"v":{"s":"remote"},"r":[{"c":[{"u":{"a":"Country","c":28,"s":"Hungary"}}],"s":{"v":{"s":"Szia"}}}]},
  "limit":{"t":2,"v":{"i":10}},
  "ratio":{"t":3,"v":{"d":0.5},"p":[{"p":50,"v":{"d":0.1}},{"p":50,"v":{"d":0.9}}]}}}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(local) = Config::parse_overrides(data) else {
        return;
    };
    let Ok(remote) = Config::parse(REMOTE) else {
        panic!("the remote test config parses");
    };
    let user = sample_user();
    exercise(&local, Some(&user), "enabled");
    for behaviour in [
        OverrideBehaviour::LocalOnly,
        OverrideBehaviour::LocalOverRemote,
        OverrideBehaviour::RemoteOverLocal,
    ] {
        let merged = Config::merge(&remote, &local, behaviour);
        exercise(&merged, Some(&user), "missing");
        for key in local.keys() {
            let winner = match behaviour {
                OverrideBehaviour::RemoteOverLocal if remote.setting(key).is_some() => &remote,
                _ => &local,
            };
            let expected = winner.evaluate(key, Some(&user), &NoLog);
            let got = merged.evaluate(key, Some(&user), &NoLog);
            assert_eq!(
                format!("{:?}", got.value),
                format!("{:?}", expected.value),
                "{behaviour:?}: {key}"
            );
        }
        if behaviour == OverrideBehaviour::LocalOnly {
            assert_eq!(merged.keys().count(), local.keys().count(), "local only");
        }
    }
});
