//! The validated config model: what a parsed config JSON v6 becomes.
//!
//! Everything evaluation needs is prepared here once: comparison values are
//! decoded into the form their comparator uses (SHA-256 digests as bytes,
//! versions and numbers parsed), segments and prerequisite flags are resolved
//! to indices. A problem confined to one condition or value does not reject
//! the config; it makes that part evaluate to an error when it is reached,
//! exactly where ConfigCat's other SDKs would fail, so one broken flag never
//! takes the others down.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use crate::compact_str::CompactStr;
use crate::comparator::{PrerequisiteComparator, SegmentComparator, UserComparator};
use crate::hashing::Sha256Digest;
use crate::json::swar::{same_key, tail_word};
use crate::semver::PreparedVersion;
use crate::user::AttributeKey;
use crate::value::{SettingType, Value};

/// A parsed, validated config: the flags and settings of one ConfigCat config
/// (or of a local override, or both merged).
///
/// ```
/// use configcat_core::Config;
///
/// let config = Config::parse(br#"{"f":{"isAwesome":{"t":0,"v":{"b":true}}}}"#).unwrap();
/// assert_eq!(config.keys().collect::<Vec<_>>(), ["isAwesome"]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub(crate) preferences: Preferences,
    /// Salt and segments per source document (two after a merge).
    pub(crate) origins: Vec<Origin>,
    /// Settings in document order.
    pub(crate) settings: Vec<Setting>,
    /// Hash index over the keys (open addressing, linear probing): each
    /// slot holds an index into `settings` plus one, 0 when empty. At least
    /// half empty, so a lookup hashes the key once and usually compares one key.
    pub(crate) by_key: Box<[u32]>,
    /// Seed of the index's hash, chosen when the index is built so that a
    /// small config's keys each sit in their own slot: one probe per lookup.
    pub(crate) key_seed: u64,
}

/// How the SDK should follow the CDN's redirect instruction (`p.r`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum RedirectMode {
    /// Stay on the current base url (`0`).
    #[default]
    NoRedirect,
    /// Move to `p.u` unless a custom base url is set (`1`).
    ShouldRedirect,
    /// Always move to `p.u` (`2`).
    ForceRedirect,
}

/// The `p` (preferences) object of config JSON.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Preferences {
    pub(crate) base_url: Option<Box<str>>,
    pub(crate) redirect: Option<RedirectMode>,
}

impl Preferences {
    /// The base url the CDN points the SDK to (`p.u`).
    #[must_use]
    pub fn base_url(&self) -> Option<&str> {
        self.base_url.as_deref()
    }

    /// The redirect instruction (`p.r`), if present and known.
    #[must_use]
    pub const fn redirect(&self) -> Option<RedirectMode> {
        self.redirect
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Origin {
    pub(crate) salt: Option<Box<str>>,
    pub(crate) segments: Box<[Segment]>,
}

/// A reusable group of user conditions (`s` in config JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub(crate) name: Box<str>,
    pub(crate) conditions: Box<[Condition]>,
}

impl Segment {
    /// The segment's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A served value exactly as stored: typed by its setting, or invalid when the
/// JSON gave no value of the setting's type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StoredValue {
    Bool(bool),
    Text(Box<str>),
    Int(i64),
    Float(f64),
    /// The JSON value does not hold the setting's type.
    Invalid,
}

impl StoredValue {
    pub(crate) fn value(&self) -> Option<Value<'_>> {
        match self {
            Self::Bool(v) => Some(Value::Bool(*v)),
            Self::Text(v) => Some(Value::Text(v)),
            Self::Int(v) => Some(Value::Int(*v)),
            Self::Float(v) => Some(Value::Float(*v)),
            Self::Invalid => None,
        }
    }
}

impl fmt::Display for StoredValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value() {
            Some(value) => value.fmt(f),
            None => f.write_str("<invalid value>"),
        }
    }
}

/// A value with the variation id that identifies it for analytics.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Served {
    pub(crate) value: StoredValue,
    pub(crate) variation_id: Option<CompactStr>,
}

/// A feature flag or setting.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub(crate) key: Box<str>,
    /// `Err(code)` for a setting type this SDK does not know.
    pub(crate) setting_type: Result<SettingType, i64>,
    pub(crate) served: Served,
    pub(crate) percentage_attribute: Option<Box<str>>,
    /// Where the % options attribute lives in a [`crate::User`], found out once.
    pub(crate) percentage_key: AttributeKey,
    pub(crate) rules: Box<[TargetingRule]>,
    /// The conditions of all the rules, rule after rule: one allocation per
    /// setting rather than one per rule (a large config has thousands).
    pub(crate) conditions: Box<[Condition]>,
    pub(crate) percentage_options: Box<[PercentageOption]>,
    /// Index into `Config::origins`: whose salt and segments this setting uses.
    pub(crate) origin: u32,
}

impl Setting {
    /// Whether anything decides the value but the setting's own: targeting
    /// rules or % options.
    #[inline]
    pub(crate) fn has_targeting(&self) -> bool {
        !self.rules.is_empty() || !self.percentage_options.is_empty()
    }

    /// The conditions of one of this setting's rules.
    #[inline]
    pub(crate) fn conditions_of(&self, rule: &TargetingRule) -> &[Condition] {
        let start = rule.first_condition as usize;
        self.conditions
            .get(start..start + rule.condition_count as usize)
            .unwrap_or_default()
    }

    /// The setting's key.
    #[must_use]
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The setting's type, `None` if the config uses a type this SDK does not know.
    #[must_use]
    pub fn setting_type(&self) -> Option<SettingType> {
        self.setting_type.ok()
    }

    /// The targeting rules, in evaluation order.
    #[must_use]
    pub fn targeting_rules(&self) -> &[TargetingRule] {
        &self.rules
    }

    /// The % options applied after the targeting rules.
    #[must_use]
    pub fn percentage_options(&self) -> &[PercentageOption] {
        &self.percentage_options
    }

    /// The value served when no rule and no % option applies.
    #[must_use]
    pub fn default_value(&self) -> Option<Value<'_>> {
        self.served.value.value()
    }

    /// The variation id of the default value.
    #[must_use]
    pub fn variation_id(&self) -> Option<&str> {
        self.served.variation_id.as_ref().map(CompactStr::as_str)
    }
}

/// One targeting rule: conditions joined by AND, then a value or % options.
///
/// Its conditions live in its setting (one list for all of a setting's
/// rules); the rule that matched an evaluation comes with them as a
/// [`MatchedTargetingRule`](crate::MatchedTargetingRule), whose `Display`
/// writes the rule as the evaluation log does. `Debug` shows what the rule
/// serves:
///
/// ```
/// use configcat_core::Config;
///
/// let config = Config::parse(br#"{"f":{"beta":{"t":0,"v":{"b":false},
///     "r":[{"c":[{"u":{"a":"Email","c":2,"l":["@example.com"]}}],"s":{"v":{"b":true},"i":"on"}}]}}}"#)?;
/// let rule = &config.setting("beta").expect("a setting").targeting_rules()[0];
/// assert_eq!(
///     format!("{rule:?}"),
///     r#"TargetingRule { condition_count: 1, served_value: Bool(true), variation_id: Some("on") }"#
/// );
/// # Ok::<(), configcat_core::ParseError>(())
/// ```
#[derive(Clone, PartialEq)]
pub struct TargetingRule {
    /// Where the rule's conditions start in its setting's `conditions`.
    pub(crate) first_condition: u32,
    pub(crate) condition_count: u32,
    pub(crate) then: RuleOutcome,
}

impl TargetingRule {
    /// The value this rule serves, if it serves a single value.
    #[must_use]
    pub fn served_value(&self) -> Option<Value<'_>> {
        match &self.then {
            RuleOutcome::Value(served) => served.value.value(),
            _ => None,
        }
    }

    /// The variation id of the served value, if the rule serves a single value.
    #[must_use]
    pub fn variation_id(&self) -> Option<&str> {
        match &self.then {
            RuleOutcome::Value(served) => served.variation_id.as_ref().map(CompactStr::as_str),
            _ => None,
        }
    }

    /// The rule's % options, empty when it serves a single value.
    #[must_use]
    pub fn percentage_options(&self) -> &[PercentageOption] {
        match &self.then {
            RuleOutcome::PercentageOptions(options) => options,
            _ => &[],
        }
    }

    /// The number of conditions joined by AND.
    #[must_use]
    pub fn condition_count(&self) -> usize {
        self.condition_count as usize
    }
}

/// What the rule serves, through the public accessors (the internals are
/// offsets into the setting's condition list).
impl fmt::Debug for TargetingRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("TargetingRule");
        debug.field("condition_count", &self.condition_count);
        match &self.then {
            RuleOutcome::Value(served) => debug
                .field("served_value", &DebugStored(&served.value))
                .field("variation_id", &self.variation_id()),
            RuleOutcome::PercentageOptions(options) => debug.field("percentage_options", options),
            RuleOutcome::Missing => debug.field("served_value", &format_args!("<missing>")),
        };
        debug.finish()
    }
}

/// A stored value in `Debug` as its [`Value`], or `<invalid value>`.
struct DebugStored<'a>(&'a StoredValue);

impl fmt::Debug for DebugStored<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.value() {
            Some(value) => value.fmt(f),
            None => f.write_str("<invalid value>"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RuleOutcome {
    Value(Served),
    PercentageOptions(Box<[PercentageOption]>),
    /// Neither a value nor % options: an error when the rule matches.
    Missing,
}

/// One % option: a share of users and the value they get.
///
/// The option an evaluation chose comes as a
/// [`MatchedPercentageOption`](crate::MatchedPercentageOption), whose
/// `Display` writes it as the evaluation log does.
#[derive(Clone, PartialEq)]
pub struct PercentageOption {
    pub(crate) percentage: i64,
    pub(crate) served: Served,
}

/// The share, the value and the variation id.
impl fmt::Debug for PercentageOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PercentageOption")
            .field("percentage", &self.percentage)
            .field("value", &DebugStored(&self.served.value))
            .field("variation_id", &self.variation_id())
            .finish()
    }
}

impl PercentageOption {
    /// The share of users, 0 to 100.
    #[must_use]
    pub const fn percentage(&self) -> i64 {
        self.percentage
    }

    /// The value served to this share.
    #[must_use]
    pub fn value(&self) -> Option<Value<'_>> {
        self.served.value.value()
    }

    /// The variation id of the value.
    #[must_use]
    pub fn variation_id(&self) -> Option<&str> {
        self.served.variation_id.as_ref().map(CompactStr::as_str)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Condition {
    User(UserCondition),
    Segment(SegmentCondition),
    Prerequisite(PrerequisiteCondition),
    /// A condition this SDK cannot evaluate; reaching it is an evaluation error.
    Invalid(ConditionDefect),
}

/// Why a condition cannot be evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConditionDefect {
    /// None of `u`, `s`, `p`.
    Empty,
    AttributeNameMissing,
    UnknownComparator,
    /// The comparison value is absent, of the wrong kind, or malformed.
    ComparisonValueInvalid,
    SegmentReferenceInvalid,
    PrerequisiteValueInvalid,
    /// While parsing only: an unknown comparator on a segment reference
    /// whose range is not checked yet (out of range it is `SegmentReferenceInvalid`).
    SegmentComparatorUnknown {
        segment: u32,
    },
}

impl ConditionDefect {
    pub(crate) const fn message(self) -> &'static str {
        match self {
            Self::Empty => {
                "Condition isn't a type of user, segment, or prerequisite flag condition"
            }
            Self::AttributeNameMissing => "Comparison attribute name is missing",
            Self::UnknownComparator | Self::SegmentComparatorUnknown { .. } => {
                "Comparison operator is missing or invalid"
            }
            Self::ComparisonValueInvalid => "Comparison value is missing or invalid",
            Self::SegmentReferenceInvalid => "Segment reference is invalid",
            Self::PrerequisiteValueInvalid => {
                "Prerequisite flag comparison value is missing or invalid"
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UserCondition {
    pub(crate) attribute: CompactStr,
    /// Where `attribute` lives in a [`crate::User`], found out once.
    pub(crate) key: AttributeKey,
    pub(crate) comparator: UserComparator,
    pub(crate) value: ComparisonValue,
}

/// A comparison value in the form its comparator evaluates.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ComparisonValue {
    /// Cleartext EQUALS / NOT EQUALS.
    Text(CompactStr),
    /// Cleartext lists (IS ONE OF, CONTAINS, STARTS/ENDS WITH, ARRAY CONTAINS).
    TextList(Box<[CompactStr]>),
    /// Hashed EQUALS / NOT EQUALS; `None` if the stored text is not a digest.
    Hash(Option<Sha256Digest>),
    /// Hashed IS ONE OF / ARRAY CONTAINS; entries that are not digests can never match.
    HashList {
        digests: Box<[Sha256Digest]>,
        count: usize,
    },
    /// Hashed STARTS/ENDS WITH: byte length of the affix and its digest.
    HashedAffixes(Box<[(usize, Option<Sha256Digest>)]>),
    /// Semver IS (NOT) ONE OF: the raw items (for the log) and their parse,
    /// `None` for a blank item (skipped) and `Some(None)` for an invalid one.
    SemverList(Box<[SemverItem]>),
    /// Semver relations: the raw text and its parse (boxed: inline it would
    /// make every condition half as large again).
    Semver(CompactStr, Option<Box<PreparedVersion>>),
    Number(f64),
    /// Unix seconds.
    Date(f64),
}

/// One item of a semver list: the raw text (for the log) and its parse,
/// `None` for a blank item (skipped) and `Some(None)` for an invalid one.
pub(crate) type SemverItem = (CompactStr, Option<Option<PreparedVersion>>);

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SegmentCondition {
    pub(crate) segment: u32,
    pub(crate) comparator: SegmentComparator,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PrerequisiteCondition {
    pub(crate) key: CompactStr,
    pub(crate) comparator: PrerequisiteComparator,
    pub(crate) value: StoredValue,
    /// Index of the prerequisite setting, resolved once the whole config is known.
    pub(crate) target: Option<u32>,
}

impl Config {
    /// The preferences (`p`) of the config.
    #[must_use]
    pub const fn preferences(&self) -> &Preferences {
        &self.preferences
    }

    /// The keys of all settings, in document order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> + Clone {
        self.settings.iter().map(|setting| &*setting.key)
    }

    /// All settings, in document order.
    #[must_use]
    pub fn settings(&self) -> &[Setting] {
        &self.settings
    }

    /// The setting with this key.
    #[must_use]
    #[inline]
    pub fn setting(&self, key: &str) -> Option<&Setting> {
        self.index_of(key)
            .and_then(|index| self.settings.get(index))
    }

    #[inline]
    pub(crate) fn index_of(&self, key: &str) -> Option<usize> {
        let mask = self.by_key.len().checked_sub(1)?;
        let mut slot = slot_of(key, mask, self.key_seed);
        loop {
            let entry = *self.by_key.get(slot)?;
            let index = (entry as usize).checked_sub(1)?;
            if self
                .settings
                .get(index)
                .is_some_and(|setting| same_key(setting.key.as_bytes(), key.as_bytes()))
            {
                return Some(index);
            }
            slot = (slot + 1) & mask;
        }
    }

    pub(crate) fn origin(&self, setting: &Setting) -> Option<&Origin> {
        self.origins.get(setting.origin as usize)
    }

    /// Builds the key index and resolves prerequisite references. Called by
    /// every constructor after `settings` is final. Later duplicates of a key
    /// replace earlier ones, as in a JSON object.
    pub(crate) fn from_parts(
        preferences: Preferences,
        origins: Vec<Origin>,
        mut settings: Vec<Setting>,
    ) -> Self {
        let (by_key, key_seed) = index_keeping_last(&mut settings);
        // Collected with growth room by the parser: give back slack worth a
        // copy of the whole list (more than an eighth).
        if settings.capacity() - settings.len() > settings.len() / 8 {
            settings.shrink_to_fit();
        }
        let mut config = Self {
            preferences,
            origins,
            settings,
            by_key,
            key_seed,
        };
        for index in 0..config.settings.len() {
            config.resolve_prerequisites(index);
        }
        config
    }

    /// Points the prerequisite conditions of setting `index` at their targets.
    fn resolve_prerequisites(&mut self, index: usize) {
        // The setting's conditions are taken out while their references are
        // looked up in the rest of the config, then put back.
        let Some(setting) = self.settings.get_mut(index) else {
            return;
        };
        let mut conditions = core::mem::take(&mut setting.conditions);
        let prerequisites = conditions
            .iter_mut()
            .filter_map(|condition| match condition {
                Condition::Prerequisite(prerequisite) => Some(prerequisite),
                _ => None,
            });
        for prerequisite in prerequisites {
            prerequisite.target = self
                .index_of(prerequisite.key.as_str())
                .and_then(|target| u32::try_from(target).ok());
        }
        if let Some(setting) = self.settings.get_mut(index) {
            setting.conditions = conditions;
        }
    }
}

/// The slot where the probe for `key` starts: a multiplicative hash of the
/// key eight bytes at a time (keys are short; this is no defence against
/// crafted collisions, which only make lookups slower).
#[inline]
fn slot_of(key: &str, mask: usize, seed: u64) -> usize {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mix = |hash: u64, word: u64| (hash.rotate_left(5) ^ word).wrapping_mul(K);
    let bytes = key.as_bytes();
    let mut hash = bytes.len() as u64 ^ seed;
    let mut rest = bytes;
    while let Some((chunk, tail)) = rest.split_first_chunk::<8>() {
        hash = mix(hash, u64::from_le_bytes(*chunk));
        rest = tail;
    }
    if !rest.is_empty() {
        // The last eight bytes (overlapping the last chunk) when the key
        // has them, so that no copy of a few bytes is needed.
        hash = mix(hash, tail_word(bytes));
    }
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a hash: only the bits under the mask matter"
    )]
    let slot = (hash ^ (hash >> 29)) as usize;
    slot & mask
}

/// Inserts `settings[index]` into the hash index unless its key is there
/// already; returns how many slots past its own it went, `None` if it was
/// not inserted.
fn index_insert(table: &mut [u32], settings: &[Setting], index: usize, seed: u64) -> Option<usize> {
    let mask = table.len().checked_sub(1)?;
    let setting = settings.get(index)?;
    let entry = u32::try_from(index + 1).ok()?;
    let mut slot = slot_of(&setting.key, mask, seed);
    for displacement in 0..table.len() {
        match table.get_mut(slot)? {
            free @ 0 => {
                *free = entry;
                return Some(displacement);
            }
            taken => {
                let other = (*taken as usize).saturating_sub(1);
                if settings.get(other).is_some_and(|o| o.key == setting.key) {
                    return None;
                }
                slot = (slot + 1) & mask;
            }
        }
    }
    None
}

/// Up to this many keys, the index is built sparse (an eighth full) and
/// seeds are tried until no key is displaced (or the least displacement is
/// found): a few KiB at most, one probe per lookup.
const SPARSE_INDEX_MAX_KEYS: usize = 64;
const SEED_ATTEMPTS: u64 = 128;

/// Builds the key index and its seed; of settings with the same key only
/// the last one is kept (later duplicates replace earlier ones, as in a
/// JSON object).
fn index_keeping_last(settings: &mut Vec<Setting>) -> (Box<[u32]>, u64) {
    let dense = |count: usize| count.saturating_mul(2).max(2).next_power_of_two();
    let mut table = alloc::vec![0_u32; dense(settings.len())].into_boxed_slice();
    let mut keep = alloc::vec![true; settings.len()];
    let mut duplicates = false;
    for index in (0..settings.len()).rev() {
        if index_insert(&mut table, settings, index, 0).is_none() {
            duplicates = true;
            if let Some(flag) = keep.get_mut(index) {
                *flag = false;
            }
        }
    }
    if duplicates {
        let mut flags = keep.into_iter();
        settings.retain(|_| flags.next().unwrap_or(true));
    } else if settings.len() > SPARSE_INDEX_MAX_KEYS {
        return (table, 0);
    }
    let sparse = settings.len() <= SPARSE_INDEX_MAX_KEYS;
    let slots = if sparse {
        (settings.len() * 8).max(2).next_power_of_two()
    } else {
        dense(settings.len())
    };
    let attempts = if sparse { SEED_ATTEMPTS } else { 1 };
    let mut best: Option<(usize, Box<[u32]>, u64)> = None;
    for attempt in 0..attempts {
        let seed = attempt.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut table = alloc::vec![0_u32; slots].into_boxed_slice();
        let displaced: usize = (0..settings.len())
            .filter_map(|index| index_insert(&mut table, settings, index, seed))
            .sum();
        if best.as_ref().is_none_or(|(least, _, _)| displaced < *least) {
            best = Some((displaced, table, seed));
        }
        if displaced == 0 {
            break;
        }
    }
    best.map_or_else(|| (table, 0), |(_, table, seed)| (table, seed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::String;

    fn config_with_keys(count: usize) -> Config {
        let settings = (0..count)
            .map(|i| format!(r#""flag{i}Key":{{"t":2,"v":{{"i":{i}}}}}"#))
            .collect::<Vec<_>>()
            .join(",");
        Config::parse(format!(r#"{{"f":{{{settings}}}}}"#).as_bytes()).unwrap()
    }

    #[test]
    fn small_configs_get_an_index_without_displaced_keys() {
        // Up to 48 keys, 128 seeds find a layout without displacement with
        // near certainty (this test pins that these keys get one).
        for count in [1, 2, 13, 16, 32, 48] {
            let config = config_with_keys(count);
            let mask = config.by_key.len() - 1;
            for (index, setting) in config.settings.iter().enumerate() {
                let home = slot_of(&setting.key, mask, config.key_seed);
                assert_eq!(config.by_key[home] as usize, index + 1, "{count} keys");
            }
            for i in 0..count {
                assert_eq!(config.index_of(&format!("flag{i}Key")), Some(i));
            }
            assert_eq!(config.index_of("missing"), None);
        }
    }

    #[test]
    fn large_configs_find_every_key() {
        let config = config_with_keys(3000);
        assert_eq!(config.by_key.len(), 8192);
        for i in 0..3000 {
            assert_eq!(config.index_of(&format!("flag{i}Key")), Some(i));
        }
        assert_eq!(config.index_of(&String::from("flag3000Key")), None);
    }

    #[test]
    fn slots_depend_on_the_key_text_only() {
        for key in ["", "a", "abc", "abcdefgh", "abcdefghijklmnopq"] {
            assert_eq!(slot_of(key, 63, 7), slot_of(&String::from(key), 63, 7));
        }
    }
}
