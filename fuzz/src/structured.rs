//! A structured generator: fuzz input → a config JSON v6 document and a user.
//!
//! Random bytes rarely form a config whose rules match anything. Here the
//! fuzzer chooses the *shape* (settings, rules, conditions, comparators,
//! segments, prerequisites, % options) and the texts mostly come from a small
//! vocabulary shared by comparison values and user attributes, so conditions
//! match and fail about equally often. Confidential comparators get real
//! SHA-256 hashes of vocabulary words, so they can match too.

use arbitrary::Arbitrary;
use configcat_core::{User, UserValue};
use serde_json::{Map, Value as Json, json};
use sha2::{Digest, Sha256};

const MAX_SETTINGS: usize = 8;
const MAX_SEGMENTS: usize = 4;
const MAX_RULES: usize = 4;
const MAX_CONDITIONS: usize = 4;
const MAX_OPTIONS: usize = 5;
const MAX_LIST: usize = 4;

/// Texts that comparison values and user attributes share.
const VOCABULARY: &[&str] = &[
    "",
    "a",
    "b",
    "jane@example.com",
    "john@example.org",
    "Hungary",
    "1.0.0",
    "1.2.3-beta.1",
    "2.0.0+build.5",
    " 1.2.3 ",
    "10",
    "-3.5",
    "1700000000",
    "x,y",
    "straße",
    "🙂",
    "1e3",
    "NaN",
];

/// Custom attribute names a user may carry and a condition may test.
const CUSTOM_NAMES: &[&str] = &["Version", "Age", "Plan", "Created", "Tags"];

/// A text: mostly from the vocabulary, sometimes anything.
#[derive(Arbitrary, Debug, Clone)]
pub enum Word {
    /// An index into the vocabulary.
    Known(u8),
    /// Any text.
    Free(String),
}

impl Word {
    fn text(&self) -> &str {
        match self {
            Self::Known(i) => VOCABULARY
                .get(usize::from(*i) % VOCABULARY.len())
                .copied()
                .unwrap_or_default(),
            Self::Free(text) => text,
        }
    }
}

/// The attribute a condition tests.
#[derive(Arbitrary, Debug, Clone)]
pub enum Attribute {
    /// `Identifier`.
    Identifier,
    /// `Email`.
    Email,
    /// `Country`.
    Country,
    /// One of the custom names.
    Custom(u8),
    /// Any name.
    Free(String),
}

impl Attribute {
    fn name(&self) -> &str {
        match self {
            Self::Identifier => "Identifier",
            Self::Email => "Email",
            Self::Country => "Country",
            Self::Custom(i) => custom_name(*i),
            Self::Free(name) => name,
        }
    }
}

fn custom_name(i: u8) -> &'static str {
    CUSTOM_NAMES
        .get(usize::from(i) % CUSTOM_NAMES.len())
        .copied()
        .unwrap_or("Version")
}

/// A served value; rendered in the setting's type unless `Raw`.
#[derive(Arbitrary, Debug, Clone)]
pub enum GenValue {
    /// Derive a value of the setting's type from this seed.
    Typed(u8, Word),
    /// A value of whatever type (likely wrong for the setting).
    Raw(RawValue),
}

/// A value with its own type.
#[derive(Arbitrary, Debug, Clone)]
pub enum RawValue {
    /// `{"b": ...}`.
    Bool(bool),
    /// `{"s": ...}`.
    Text(Word),
    /// `{"i": ...}`.
    Int(i64),
    /// `{"d": ...}`.
    Double(f64),
    /// `{}`: no value at all.
    Nothing,
}

/// One comparison of a user attribute.
#[derive(Arbitrary, Debug, Clone)]
pub struct GenUserCondition {
    attribute: Attribute,
    comparator: u8,
    comparison: Comparison,
}

/// The comparison value of a user condition.
#[derive(Arbitrary, Debug, Clone)]
pub enum Comparison {
    /// The kind the comparator expects, from these words / this number.
    Natural(Vec<Word>, f64),
    /// A text (`s`), whatever the comparator.
    Text(Word),
    /// A number (`d`), whatever the comparator.
    Number(f64),
    /// A list (`l`), whatever the comparator.
    List(Vec<Word>),
    /// No comparison value.
    Missing,
}

/// A condition of a targeting rule.
#[derive(Arbitrary, Debug, Clone)]
pub enum GenCondition {
    /// A user condition.
    User(GenUserCondition),
    /// A segment condition: index (may be out of range) and comparator.
    Segment(u8, u8),
    /// A prerequisite: setting index (may be missing), comparator, value.
    Prerequisite(u8, u8, GenValue),
}

/// One % option.
#[derive(Arbitrary, Debug, Clone)]
pub struct GenOption {
    percent: u8,
    value: GenValue,
    variation: Option<Word>,
}

/// What a rule serves.
#[derive(Arbitrary, Debug, Clone)]
pub enum GenOutcome {
    /// A value.
    Value(GenValue, Option<Word>),
    /// % options (sums fixed to 100 unless `exact` is false).
    Options(Vec<GenOption>, bool),
}

/// A targeting rule.
#[derive(Arbitrary, Debug, Clone)]
pub struct GenRule {
    conditions: Vec<GenCondition>,
    outcome: GenOutcome,
}

/// A setting.
#[derive(Arbitrary, Debug, Clone)]
pub struct GenSetting {
    kind: u8,
    value: GenValue,
    variation: Option<Word>,
    percentage_attribute: Option<Attribute>,
    rules: Vec<GenRule>,
    options: Vec<GenOption>,
    exact_options: bool,
}

/// A segment.
#[derive(Arbitrary, Debug, Clone)]
pub struct GenSegment {
    name: Word,
    conditions: Vec<GenUserCondition>,
}

/// A whole config.
#[derive(Arbitrary, Debug, Clone)]
pub struct GenConfig {
    salt: Option<Word>,
    segments: Vec<GenSegment>,
    settings: Vec<GenSetting>,
}

/// A user attribute value.
#[derive(Arbitrary, Debug, Clone)]
pub enum GenUserValue {
    /// Text.
    Text(Word),
    /// A number.
    Number(f64),
    /// A date-time, seconds since the epoch.
    DateTime(f64),
    /// A list of texts.
    List(Vec<Word>),
}

/// A user.
#[derive(Arbitrary, Debug, Clone)]
pub struct GenUser {
    identifier: Word,
    email: Option<Word>,
    country: Option<Word>,
    custom: Vec<(u8, GenUserValue)>,
}

impl GenUser {
    /// The core's user.
    pub fn to_user(&self) -> User {
        let mut user = User::new(self.identifier.text());
        if let Some(email) = &self.email {
            user = user.with_email(email.text());
        }
        if let Some(country) = &self.country {
            user = user.with_country(country.text());
        }
        for (name, value) in self.custom.iter().take(MAX_LIST * 2) {
            let value = match value {
                GenUserValue::Text(word) => UserValue::Text(word.text().into()),
                GenUserValue::Number(n) => UserValue::Number(*n),
                GenUserValue::DateTime(s) => UserValue::DateTime(*s),
                GenUserValue::List(words) => UserValue::StringList(
                    words
                        .iter()
                        .take(MAX_LIST)
                        .map(|w| w.text().into())
                        .collect(),
                ),
            };
            user.set_custom(custom_name(*name), value);
        }
        user
    }
}

/// A config, a user and a key to look up.
#[derive(Arbitrary, Debug, Clone)]
pub struct Scenario {
    /// The config.
    pub config: GenConfig,
    /// The user, if any.
    pub user: Option<GenUser>,
}

/// Setting keys are `f0`, `f1`, ...: prerequisites refer to them by index.
pub fn setting_key(index: usize) -> String {
    format!("f{index}")
}

impl GenConfig {
    /// How many settings the rendered config has.
    pub fn setting_count(&self) -> usize {
        self.settings.len().min(MAX_SETTINGS)
    }

    /// The config JSON v6 document.
    pub fn to_json(&self) -> String {
        let salt = self.salt.as_ref().map_or("", Word::text);
        let segments: Vec<&GenSegment> = self.segments.iter().take(MAX_SEGMENTS).collect();
        let settings: Vec<&GenSetting> = self.settings.iter().take(MAX_SETTINGS).collect();
        let types: Vec<u8> = settings.iter().map(|s| setting_type(s.kind)).collect();
        let context = Context {
            salt,
            segment_count: segments.len(),
            types: &types,
        };

        let mut preferences = Map::new();
        if self.salt.is_some() {
            preferences.insert("s".into(), json!(salt));
        }
        let segments_json: Vec<Json> = segments
            .iter()
            .map(|segment| {
                let name = segment.name.text();
                let conditions: Vec<Json> = segment
                    .conditions
                    .iter()
                    .take(MAX_CONDITIONS)
                    .map(|c| user_condition(c, &context, name))
                    .collect();
                json!({"n": name, "r": conditions})
            })
            .collect();
        let mut flags = Map::new();
        for (index, setting) in settings.iter().enumerate() {
            let key = setting_key(index);
            let t = types.get(index).copied().unwrap_or(0);
            flags.insert(key.clone(), render_setting(setting, t, &key, &context));
        }
        json!({"p": preferences, "s": segments_json, "f": flags}).to_string()
    }
}

struct Context<'a> {
    salt: &'a str,
    segment_count: usize,
    types: &'a [u8],
}

/// Mostly the four real types; now and then an unknown one.
fn setting_type(kind: u8) -> u8 {
    if kind >= 250 { kind % 8 } else { kind % 4 }
}

fn render_setting(setting: &GenSetting, t: u8, key: &str, context: &Context<'_>) -> Json {
    let mut object = Map::new();
    object.insert("t".into(), json!(t));
    object.insert("v".into(), render_value(&setting.value, t));
    if let Some(variation) = &setting.variation {
        object.insert("i".into(), json!(variation.text()));
    }
    if let Some(attribute) = &setting.percentage_attribute {
        object.insert("a".into(), json!(attribute.name()));
    }
    let rules: Vec<Json> = setting
        .rules
        .iter()
        .take(MAX_RULES)
        .map(|rule| {
            let conditions: Vec<Json> = rule
                .conditions
                .iter()
                .take(MAX_CONDITIONS)
                .map(|condition| render_condition(condition, context, key))
                .collect();
            let mut rule_json = Map::new();
            rule_json.insert("c".into(), Json::Array(conditions));
            match &rule.outcome {
                GenOutcome::Value(value, variation) => {
                    let mut served = Map::new();
                    served.insert("v".into(), render_value(value, t));
                    if let Some(variation) = variation {
                        served.insert("i".into(), json!(variation.text()));
                    }
                    rule_json.insert("s".into(), Json::Object(served));
                }
                GenOutcome::Options(options, exact) => {
                    rule_json.insert("p".into(), render_options(options, *exact, t));
                }
            }
            Json::Object(rule_json)
        })
        .collect();
    if !rules.is_empty() {
        object.insert("r".into(), Json::Array(rules));
    }
    if !setting.options.is_empty() {
        object.insert(
            "p".into(),
            render_options(&setting.options, setting.exact_options, t),
        );
    }
    Json::Object(object)
}

fn render_options(options: &[GenOption], exact: bool, t: u8) -> Json {
    let options: Vec<&GenOption> = options.iter().take(MAX_OPTIONS).collect();
    let mut percents: Vec<u32> = options.iter().map(|o| u32::from(o.percent % 101)).collect();
    if exact {
        // Scale down to 100 in total, the last option taking the rest.
        let mut left = 100_u32;
        let count = percents.len();
        for (i, percent) in percents.iter_mut().enumerate() {
            *percent = if i + 1 == count {
                left
            } else {
                (*percent).min(left)
            };
            left -= *percent;
        }
    }
    Json::Array(
        options
            .iter()
            .zip(percents)
            .map(|(option, percent)| {
                let mut object = Map::new();
                object.insert("p".into(), json!(percent));
                object.insert("v".into(), render_value(&option.value, t));
                if let Some(variation) = &option.variation {
                    object.insert("i".into(), json!(variation.text()));
                }
                Json::Object(object)
            })
            .collect(),
    )
}

fn render_value(value: &GenValue, t: u8) -> Json {
    match value {
        GenValue::Typed(seed, word) => match t {
            0 => json!({"b": seed % 2 == 0}),
            1 => json!({"s": word.text()}),
            2 => json!({"i": i64::from(*seed) - 100}),
            3 => json!({"d": f64::from(*seed) / 8.0 - 3.0}),
            _ => json!({"s": word.text(), "b": true}),
        },
        GenValue::Raw(raw) => match raw {
            RawValue::Bool(b) => json!({"b": b}),
            RawValue::Text(word) => json!({"s": word.text()}),
            RawValue::Int(i) => json!({"i": i}),
            // serde_json writes a non-finite number as null: still a shape the parser must take.
            RawValue::Double(d) => json!({"d": d}),
            RawValue::Nothing => json!({}),
        },
    }
}

fn render_condition(condition: &GenCondition, context: &Context<'_>, key: &str) -> Json {
    match condition {
        GenCondition::User(user) => json!({"u": user_condition(user, context, key)}),
        GenCondition::Segment(index, comparator) => json!({"s": {
            "s": usize::from(*index) % (context.segment_count + 1),
            "c": comparator % 3,
        }}),
        GenCondition::Prerequisite(index, comparator, value) => {
            let target = usize::from(*index) % (context.types.len() + 1);
            // The prerequisite's own type, so the comparison can match.
            let t = context.types.get(target).copied().unwrap_or(1);
            json!({"p": {
                "f": setting_key(target),
                "c": comparator % 3,
                "v": render_value(value, t),
            }})
        }
    }
}

/// What a user comparator compares with.
enum Expected {
    List,
    Text,
    Number,
}

fn expected(comparator: u8) -> Expected {
    match comparator {
        6..=9 | 20 | 21 | 28 | 29 => Expected::Text,
        10..=15 | 18 | 19 => Expected::Number,
        _ => Expected::List,
    }
}

fn is_confidential(comparator: u8) -> bool {
    matches!(comparator, 16 | 17 | 20..=27)
}

fn is_affix(comparator: u8) -> bool {
    matches!(comparator, 22..=25)
}

fn sha256_hex(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A confidential comparison value, as the dashboard would store `text`.
fn hashed(text: &str, comparator: u8, context: &Context<'_>, context_salt: &str) -> String {
    if is_affix(comparator) {
        format!(
            "{}_{}",
            text.len(),
            sha256_hex(&[text, context.salt, context_salt])
        )
    } else {
        sha256_hex(&[text, context.salt, context_salt])
    }
}

fn user_condition(condition: &GenUserCondition, context: &Context<'_>, context_salt: &str) -> Json {
    // 36 and 37 are not comparators: the flag must fail cleanly.
    let comparator = condition.comparator % 38;
    let mut object = Map::new();
    object.insert("a".into(), json!(condition.attribute.name()));
    object.insert("c".into(), json!(comparator));
    let text = |word: &Word| {
        if is_confidential(comparator) {
            hashed(word.text(), comparator, context, context_salt)
        } else {
            word.text().to_owned()
        }
    };
    match &condition.comparison {
        Comparison::Natural(words, number) => match expected(comparator) {
            Expected::List => {
                let list: Vec<String> = words.iter().take(MAX_LIST).map(text).collect();
                object.insert("l".into(), json!(list));
            }
            Expected::Text => {
                let word = words.first().cloned().unwrap_or(Word::Known(6));
                object.insert("s".into(), json!(text(&word)));
            }
            Expected::Number => {
                object.insert("d".into(), json!(number));
            }
        },
        Comparison::Text(word) => {
            object.insert("s".into(), json!(text(word)));
        }
        Comparison::Number(number) => {
            object.insert("d".into(), json!(number));
        }
        Comparison::List(words) => {
            let list: Vec<String> = words.iter().take(MAX_LIST).map(text).collect();
            object.insert("l".into(), json!(list));
        }
        Comparison::Missing => {}
    }
    Json::Object(object)
}
