//! Flag overrides: combining a local config (file or map) with the remote one.

use alloc::vec::Vec;

use crate::config::{Config, Origin};

/// How local flag overrides combine with the config downloaded from ConfigCat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OverrideBehaviour {
    /// Only the local flags; nothing is downloaded.
    LocalOnly,
    /// Both; for a key in both, the local flag wins.
    LocalOverRemote,
    /// Both; for a key in both, the remote flag wins.
    RemoteOverLocal,
}

impl Config {
    /// Combines a remote config with local overrides according to `behaviour`.
    ///
    /// Every flag keeps the salt and segments of the document it came from, so
    /// confidential comparisons and segment conditions keep working after the
    /// merge; prerequisite flags are looked up in the merged result.
    ///
    /// ```
    /// use configcat_core::{Config, NoLog, OverrideBehaviour, OwnedValue};
    ///
    /// let remote = Config::parse(br#"{"f":{"a":{"t":0,"v":{"b":false}},"b":{"t":1,"v":{"s":"remote"}}}}"#).unwrap();
    /// let local = Config::from_values([("a".to_owned(), OwnedValue::Bool(true))]);
    /// let merged = Config::merge(&remote, &local, OverrideBehaviour::LocalOverRemote);
    /// assert!(merged.get_value("a", false, None, &NoLog));
    /// assert_eq!(merged.get_value("b", "", None, &NoLog), "remote");
    /// ```
    #[must_use]
    pub fn merge(remote: &Self, local: &Self, behaviour: OverrideBehaviour) -> Self {
        match behaviour {
            OverrideBehaviour::LocalOnly => local.clone(),
            OverrideBehaviour::LocalOverRemote => overlay(remote, local, remote),
            OverrideBehaviour::RemoteOverLocal => overlay(local, remote, remote),
        }
    }
}

/// `base` with the settings of `top` replacing same-key ones in place and the
/// rest appended (the order of a dictionary update), preferences from `preferences_from`.
fn overlay(base: &Config, top: &Config, preferences_from: &Config) -> Config {
    let base_origins = u32::try_from(base.origins.len()).unwrap_or(u32::MAX);
    let mut origins: Vec<Origin> = base.origins.clone();
    origins.extend(top.origins.iter().cloned());
    let mut settings = base.settings.clone();
    for setting in &top.settings {
        let mut setting = setting.clone();
        setting.origin = setting.origin.saturating_add(base_origins);
        match base
            .index_of(&setting.key)
            .and_then(|index| settings.get_mut(index))
        {
            Some(slot) => *slot = setting,
            None => settings.push(setting),
        }
    }
    Config::from_parts(preferences_from.preferences.clone(), origins, settings)
}
