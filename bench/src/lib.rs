//! Harness of the anchor workloads (`../shared/bench/workloads.json`): W1-W8
//! and P1, run through `configcat-core` and through `configcat-std`'s public
//! API, each folded into the workload's FNV-1a 64 checksum.
//!
//! The workload definitions and configs are read at run time from the
//! directory named by `CONFIGCAT_BENCH_DIR`, by default `../shared/bench`
//! beside the repository; they are never copied into it.
//!
//! Users follow the file's `user_attribute_types`: a JSON string is a text
//! attribute, a number a [`UserValue::Number`], an array of strings a
//! [`UserValue::StringList`]. One exception is forced by the typed
//! [`User`]: `Country` is a well-known attribute of type text (as in
//! ConfigCat's Go, Java and .NET SDKs), so an array there is passed as the
//! text of a compact JSON array (`["USA"]`), which is exactly how the
//! conformance suite passes it, and which the array comparators read as a
//! string list.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use configcat_core::{Config, FlagValue, NoLog, OwnedValue, User, UserValue, Value};
use configcat_std::{Client, ClientOptions, FlagDefault, FlagOverrides, OverrideBehaviour};
use serde_json::Value as Json;
use sha2::Digest;

/// Environment variable naming the workload directory (the one holding `workloads.json`).
pub const DIR_VARIABLE: &str = "CONFIGCAT_BENCH_DIR";

/// Users prepared per workload; iteration `i` evaluates for user `i % USERS`.
pub const USERS: usize = 1024;

/// The workload directory: `$CONFIGCAT_BENCH_DIR`, else `../shared/bench`
/// beside the repository.
///
/// # Errors
/// The directory has no `workloads.json`.
pub fn bench_dir() -> Result<PathBuf, String> {
    let dir = std::env::var_os(DIR_VARIABLE).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench"),
        PathBuf::from,
    );
    if dir.join("workloads.json").is_file() {
        Ok(dir)
    } else {
        Err(format!(
            "workload definitions not found: {} has no workloads.json (set {DIR_VARIABLE})",
            dir.display()
        ))
    }
}

// ---- checksum --------------------------------------------------------------

/// FNV-1a 64, the workloads' checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self::new()
    }
}

impl Fnv {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    /// The empty checksum.
    #[must_use]
    pub const fn new() -> Self {
        Self(Self::OFFSET)
    }

    /// Folds bytes in.
    #[inline]
    pub fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(Self::PRIME);
        }
    }

    /// The checksum so far.
    #[must_use]
    pub const fn finish(self) -> u64 {
        self.0
    }
}

impl fmt::Write for Fnv {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write(s.as_bytes());
        Ok(())
    }
}

/// Where a workload's results go.
///
/// Checking a workload folds every result into its FNV-1a checksum. The timed
/// loops hand each result to [`black_box`] instead: the checksum has already
/// proved the results right, and folding them would time the harness rather
/// than the SDK. The `harness/*` benches time the fold alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sink {
    fnv: Fnv,
    folding: bool,
}

impl Sink {
    /// Folds every result into the checksum.
    #[must_use]
    pub const fn checksum() -> Self {
        Self {
            fnv: Fnv::new(),
            folding: true,
        }
    }

    /// Only hides every result from the optimiser.
    #[must_use]
    pub const fn opaque() -> Self {
        Self {
            fnv: Fnv::new(),
            folding: false,
        }
    }

    /// Takes one `get_value` result: the line `canon(value)\n`.
    #[inline]
    pub fn line<T: Canon>(&mut self, value: T) {
        if self.folding {
            value.fold(&mut self.fnv);
            self.fnv.write(b"\n");
        } else {
            black_box(value);
        }
    }

    /// Takes bytes that are already a checksum line.
    #[inline]
    pub fn bytes(&mut self, bytes: &[u8]) {
        if self.folding {
            self.fnv.write(bytes);
        } else {
            black_box(bytes);
        }
    }

    /// The checksum so far (the empty checksum for an opaque sink).
    #[must_use]
    pub const fn finish(&self) -> u64 {
        self.fnv.finish()
    }
}

/// A value as the checksum sees it (`canon` of `workloads.json`).
pub trait Canon {
    /// Writes `canon(self)` (without the line end).
    fn write_canon<W: fmt::Write>(&self, out: &mut W);

    /// Folds `canon(self)` (without the line end) into `fnv`.
    #[inline]
    fn fold(&self, fnv: &mut Fnv) {
        self.write_canon(fnv);
    }
}

impl Canon for bool {
    #[inline]
    fn write_canon<W: fmt::Write>(&self, out: &mut W) {
        let _ = out.write_str(if *self { "true" } else { "false" });
    }
}

impl Canon for i64 {
    fn write_canon<W: fmt::Write>(&self, out: &mut W) {
        let _ = write!(out, "{self}");
    }
}

impl Canon for f64 {
    fn write_canon<W: fmt::Write>(&self, out: &mut W) {
        // Integral: integer decimal (also for -0); otherwise Rust's shortest
        // round-trip text, which is Python's repr for the values configs hold.
        if *self == 0.0 {
            let _ = out.write_str("0");
        } else {
            let _ = write!(out, "{self}");
        }
    }
}

impl Canon for &str {
    #[inline]
    fn write_canon<W: fmt::Write>(&self, out: &mut W) {
        let _ = out.write_str(self);
    }
}

impl Canon for String {
    #[inline]
    fn write_canon<W: fmt::Write>(&self, out: &mut W) {
        let _ = out.write_str(self);
    }
}

impl Canon for Value<'_> {
    fn write_canon<W: fmt::Write>(&self, out: &mut W) {
        match self {
            Value::Bool(v) => v.write_canon(out),
            Value::Text(v) => v.write_canon(out),
            Value::Int(v) => v.write_canon(out),
            Value::Float(v) => v.write_canon(out),
        }
    }
}

impl Canon for OwnedValue {
    fn write_canon<W: fmt::Write>(&self, out: &mut W) {
        self.as_value().write_canon(out);
    }
}

/// Parses a 16-hex-digit checksum.
///
/// # Errors
/// Not 16 hex digits.
pub fn parse_check(text: &str) -> Result<u64, String> {
    if text.len() != 16 {
        return Err(format!("checksum '{text}' is not 16 hex digits"));
    }
    u64::from_str_radix(text, 16).map_err(|e| format!("checksum '{text}': {e}"))
}

// ---- workload definitions ----------------------------------------------------

/// One config file of the workloads.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// Its name in `workloads.json` (`BASIC`, `LARGE`, ...).
    pub name: String,
    /// The SDK key the file gives it (clients use unique keys derived from it).
    pub sdk_key: String,
    /// Absolute path of the JSON file.
    pub path: PathBuf,
    /// The file's contents.
    pub json: Vec<u8>,
}

impl ConfigFile {
    /// Parses the config with the core.
    ///
    /// # Errors
    /// The core rejects the file.
    pub fn parse(&self) -> Result<Config, String> {
        Config::parse(&self.json).map_err(|e| format!("{}: {e}", self.path.display()))
    }
}

/// The default value of a `get_value` workload; its type is the type asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum DefaultValue {
    /// `"type": "bool"`.
    Bool(bool),
    /// `"type": "string"`.
    Text(String),
    /// `"type": "int"`.
    Int(i64),
    /// `"type": "double"`.
    Float(f64),
}

/// What a workload evaluates per iteration.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// One flag.
    GetValue {
        /// The flag's key.
        key: String,
        /// The default (and so the type asked for).
        default: DefaultValue,
    },
    /// All flags (`get_all_values`).
    GetAllValues,
}

/// One of W1-W8.
#[derive(Debug, Clone)]
pub struct Workload {
    /// `W1` ... `W8`.
    pub id: String,
    /// What it exercises.
    pub title: String,
    /// The config it runs on.
    pub config: ConfigFile,
    /// What it evaluates.
    pub op: Op,
    /// The 1,024 users, or `None` for evaluations without a user.
    pub users: Option<Vec<User>>,
    /// The expected checksum over users 0..1023.
    pub expected_check: u64,
}

impl Workload {
    /// The user of iteration `index`.
    #[inline]
    #[must_use]
    pub fn user(&self, index: usize) -> Option<&User> {
        self.users
            .as_ref()
            .and_then(|users| users.get(index % USERS))
    }
}

/// One of the P1 parse workloads.
#[derive(Debug, Clone)]
pub struct ParseWorkload {
    /// `P1-comparators` or `P1-large`.
    pub id: String,
    /// The config that is parsed.
    pub config: ConfigFile,
    /// The flag evaluated first after parsing.
    pub first_key: String,
    /// Its default.
    pub default: DefaultValue,
    /// The user of the first evaluation.
    pub user: User,
    /// The users whose `get_all_values` lines follow the first line in
    /// the checksum (`check_users`; none when the file lists none).
    pub check_users: Vec<User>,
    /// The expected checksum.
    pub expected_check: u64,
}

/// Everything in `workloads.json`.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The directory it was read from.
    pub dir: PathBuf,
    /// W1-W8 in file order.
    pub workloads: Vec<Workload>,
    /// P1 in file order.
    pub parse: Vec<ParseWorkload>,
    /// The configs by name.
    pub configs: HashMap<String, ConfigFile>,
}

fn member<'a>(object: &'a Json, name: &str, context: &str) -> Result<&'a Json, String> {
    object
        .get(name)
        .ok_or_else(|| format!("{context}: member '{name}' is missing"))
}

fn text<'a>(object: &'a Json, name: &str, context: &str) -> Result<&'a str, String> {
    member(object, name, context)?
        .as_str()
        .ok_or_else(|| format!("{context}: member '{name}' is not a string"))
}

impl Suite {
    /// Reads `workloads.json` and the configs from [`bench_dir`].
    ///
    /// # Errors
    /// A file is missing or does not have the expected shape.
    pub fn load() -> Result<Self, String> {
        Self::load_from(&bench_dir()?)
    }

    /// Reads `workloads.json` and its configs from `dir`.
    ///
    /// # Errors
    /// A file is missing or does not have the expected shape.
    pub fn load_from(dir: &Path) -> Result<Self, String> {
        let path = dir.join("workloads.json");
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let root: Json =
            serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        let users_per_workload = member(&root, "users_per_workload", "workloads.json")?.as_u64();
        if users_per_workload != Some(USERS as u64) {
            return Err(format!(
                "workloads.json: users_per_workload is {users_per_workload:?}, the harness needs {USERS}"
            ));
        }
        let mut configs = HashMap::new();
        let config_list = member(&root, "configs", "workloads.json")?
            .as_object()
            .ok_or("workloads.json: 'configs' is not an object")?;
        for (name, config) in config_list {
            let context = format!("configs.{name}");
            let path = dir.join(text(config, "file", &context)?);
            let json = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            if let Some(expected) = config.get("bytes").and_then(Json::as_u64) {
                if json.len() as u64 != expected {
                    return Err(format!(
                        "{}: {} bytes, workloads.json says {expected}",
                        path.display(),
                        json.len()
                    ));
                }
            }
            configs.insert(
                name.clone(),
                ConfigFile {
                    name: name.clone(),
                    sdk_key: text(config, "sdk_key", &context)?.to_owned(),
                    path,
                    json,
                },
            );
        }
        let config_named = |name: &str, context: &str| {
            configs
                .get(name)
                .cloned()
                .ok_or_else(|| format!("{context}: unknown config '{name}'"))
        };
        let mut workloads = Vec::new();
        for workload in member(&root, "workloads", "workloads.json")?
            .as_array()
            .ok_or("workloads.json: 'workloads' is not an array")?
        {
            let id = text(workload, "id", "workload")?.to_owned();
            let op = match text(workload, "op", &id)? {
                "get_value" => Op::GetValue {
                    key: text(workload, "key", &id)?.to_owned(),
                    default: default_value(workload, &id)?,
                },
                "get_all_values" => Op::GetAllValues,
                other => return Err(format!("{id}: unknown op '{other}'")),
            };
            let users = match workload.get("users") {
                None | Some(Json::Null) => None,
                Some(Json::Array(list)) => {
                    if list.len() != USERS {
                        return Err(format!("{id}: {} users, expected {USERS}", list.len()));
                    }
                    Some(
                        list.iter()
                            .map(|user| user_from_json(user).map_err(|e| format!("{id}: {e}")))
                            .collect::<Result<Vec<_>, _>>()?,
                    )
                }
                Some(_) => return Err(format!("{id}: 'users' is not an array")),
            };
            workloads.push(Workload {
                title: text(workload, "title", &id)?.to_owned(),
                config: config_named(text(workload, "config", &id)?, &id)?,
                op,
                users,
                expected_check: parse_check(text(workload, "expected_check", &id)?)?,
                id,
            });
        }
        let mut parse = Vec::new();
        for workload in member(&root, "parse", "workloads.json")?
            .as_array()
            .ok_or("workloads.json: 'parse' is not an array")?
        {
            let id = text(workload, "id", "parse workload")?.to_owned();
            let user = user_from_json(member(workload, "user", &id)?)?;
            let check_users = match workload.get("check_users") {
                None | Some(Json::Null) => Vec::new(),
                Some(Json::Array(list)) => list
                    .iter()
                    .map(user_from_json)
                    .collect::<Result<Vec<_>, _>>()?,
                Some(_) => return Err(format!("{id}: 'check_users' is not an array")),
            };
            parse.push(ParseWorkload {
                config: config_named(text(workload, "config", &id)?, &id)?,
                first_key: text(workload, "first_key", &id)?.to_owned(),
                default: default_value(workload, &id)?,
                user,
                check_users,
                expected_check: parse_check(text(workload, "expected_check", &id)?)?,
                id,
            });
        }
        Ok(Self {
            dir: dir.to_owned(),
            workloads,
            parse,
            configs,
        })
    }

    /// The workload with this id.
    ///
    /// # Errors
    /// There is none.
    pub fn workload(&self, id: &str) -> Result<&Workload, String> {
        self.workloads
            .iter()
            .find(|workload| workload.id == id)
            .ok_or_else(|| format!("no workload {id}"))
    }
}

fn default_value(workload: &Json, id: &str) -> Result<DefaultValue, String> {
    let default = member(workload, "default", id)?;
    let wrong = || format!("{id}: default {default} does not fit its type");
    Ok(match text(workload, "type", id)? {
        "bool" => DefaultValue::Bool(default.as_bool().ok_or_else(wrong)?),
        "string" => DefaultValue::Text(default.as_str().ok_or_else(wrong)?.to_owned()),
        "int" => DefaultValue::Int(default.as_i64().ok_or_else(wrong)?),
        "double" => DefaultValue::Float(default.as_f64().ok_or_else(wrong)?),
        other => return Err(format!("{id}: unknown type '{other}'")),
    })
}

/// Builds a [`User`] from a workload user (see the crate documentation for the types).
///
/// # Errors
/// A member has a value of no supported type.
pub fn user_from_json(json: &Json) -> Result<User, String> {
    let object = json.as_object().ok_or("a user is not a JSON object")?;
    let well_known = |name: &str| -> Result<Option<String>, String> {
        match object.get(name) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::String(text)) => Ok(Some(text.clone())),
            // Country is text in this SDK: a list becomes its compact JSON text.
            Some(list @ Json::Array(_)) if name == configcat_core::COUNTRY => {
                Ok(Some(list.to_string()))
            }
            Some(other) => Err(format!("user attribute {name} = {other} is not supported")),
        }
    };
    let mut user = User::new(well_known(configcat_core::IDENTIFIER)?.unwrap_or_default());
    if let Some(email) = well_known(configcat_core::EMAIL)? {
        user = user.with_email(email);
    }
    if let Some(country) = well_known(configcat_core::COUNTRY)? {
        user = user.with_country(country);
    }
    for (name, value) in object {
        if matches!(
            name.as_str(),
            configcat_core::IDENTIFIER | configcat_core::EMAIL | configcat_core::COUNTRY
        ) {
            continue;
        }
        let value = match value {
            Json::Null => continue,
            Json::String(text) => UserValue::Text(text.clone()),
            Json::Number(number) => UserValue::Number(
                number
                    .as_f64()
                    .ok_or_else(|| format!("user attribute {name} = {number} is not a number"))?,
            ),
            Json::Array(items) => UserValue::StringList(
                items
                    .iter()
                    .map(|item| item.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| format!("user attribute {name} is not a list of strings"))?,
            ),
            other => return Err(format!("user attribute {name} = {other} is not supported")),
        };
        user.set_custom(name.as_str(), value);
    }
    Ok(user)
}

// ---- through the core ----------------------------------------------------------

/// One `get_value` through the core, folded as one checksum line.
#[inline]
pub fn core_get<'a, T: FlagValue<'a> + Canon>(
    config: &'a Config,
    key: &str,
    default: T,
    user: Option<&User>,
    sink: &mut Sink,
) {
    sink.line(config.get_value(key, default, user, &NoLog));
}

/// The positions of a config's settings in key order (bytes), for the
/// `get_all_values` line, computed once.
#[must_use]
pub fn key_order(config: &Config) -> Vec<usize> {
    let keys: Vec<&str> = config.keys().collect();
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| keys.get(a).cmp(&keys.get(b)));
    order
}

/// Reusable state of `get_all_values` through the core: the key order and
/// a buffer for one user's values (no allocation after the first iteration).
#[derive(Debug)]
pub struct CoreAll<'a> {
    config: &'a Config,
    order: Vec<usize>,
    values: Vec<Option<Value<'a>>>,
}

impl<'a> CoreAll<'a> {
    /// Prepares `get_all_values` over `config`.
    #[must_use]
    pub fn new(config: &'a Config) -> Self {
        Self {
            config,
            order: key_order(config),
            values: Vec::with_capacity(config.settings().len()),
        }
    }

    /// Evaluates every setting for `user` and folds the line `k1=v1;k2=v2;...\n`
    /// (keys in byte order; settings that fail to evaluate are left out).
    pub fn fold(&mut self, user: Option<&User>, sink: &mut Sink) {
        self.values.clear();
        let values = &mut self.values;
        self.config
            .for_each_value(user, &NoLog, |_key, value| values.push(value.ok()));
        if !sink.folding {
            black_box(&self.values);
            return;
        }
        let fnv = &mut sink.fnv;
        let mut first = true;
        for (&index, key) in self.order.iter().zip(self.sorted_keys()) {
            if let Some(Some(value)) = self.values.get(index) {
                if !first {
                    fnv.write(b";");
                }
                first = false;
                fnv.write(key.as_bytes());
                fnv.write(b"=");
                value.fold(fnv);
            }
        }
        fnv.write(b"\n");
    }

    fn sorted_keys(&self) -> impl Iterator<Item = &'a str> + '_ {
        let settings = self.config.settings();
        self.order
            .iter()
            .filter_map(move |&index| settings.get(index).map(configcat_core::Setting::key))
    }
}

/// Folds one user's `get_all_values` map (as the std client returns it) as a checksum line.
pub fn fold_value_map(map: &BTreeMap<String, OwnedValue>, sink: &mut Sink) {
    if !sink.folding {
        black_box(map);
        return;
    }
    let fnv = &mut sink.fnv;
    // Iterated in key order (bytes, as `String`'s `Ord`), as the line wants.
    for (index, (key, value)) in map.iter().enumerate() {
        if index > 0 {
            fnv.write(b";");
        }
        fnv.write(key.as_bytes());
        fnv.write(b"=");
        value.fold(fnv);
    }
    fnv.write(b"\n");
}

/// The checksum of a workload through the core, over users 0..1023.
///
/// # Errors
/// The config does not parse.
pub fn core_check(workload: &Workload) -> Result<u64, String> {
    let config = workload.config.parse()?;
    let mut sink = Sink::checksum();
    match &workload.op {
        Op::GetValue { key, default } => {
            for index in 0..USERS {
                let user = workload.user(index);
                match default {
                    DefaultValue::Bool(d) => core_get(&config, key, *d, user, &mut sink),
                    DefaultValue::Text(d) => core_get(&config, key, d.as_str(), user, &mut sink),
                    DefaultValue::Int(d) => core_get(&config, key, *d, user, &mut sink),
                    DefaultValue::Float(d) => core_get(&config, key, *d, user, &mut sink),
                }
            }
        }
        Op::GetAllValues => {
            let mut all = CoreAll::new(&config);
            for index in 0..USERS {
                all.fold(workload.user(index), &mut sink);
            }
        }
    }
    Ok(sink.finish())
}

/// The checksum of a parse workload as `parse_checksum` in `workloads.json`
/// defines it: parse, the first key's line for the workload's user, then
/// the `get_all_values` line of every check user.
///
/// # Errors
/// The config does not parse.
pub fn parse_check_value(workload: &ParseWorkload) -> Result<u64, String> {
    let config = workload.config.parse()?;
    let mut sink = Sink::checksum();
    fold_first(&config, workload, Some(&workload.user), &mut sink);
    let mut all = CoreAll::new(&config);
    for user in &workload.check_users {
        all.fold(Some(user), &mut sink);
    }
    Ok(sink.finish())
}

/// Evaluates a parse workload's first key for `user` and folds it.
pub fn fold_first(config: &Config, workload: &ParseWorkload, user: Option<&User>, sink: &mut Sink) {
    let key = workload.first_key.as_str();
    match &workload.default {
        DefaultValue::Bool(d) => core_get(config, key, *d, user, sink),
        DefaultValue::Text(d) => core_get(config, key, d.as_str(), user, sink),
        DefaultValue::Int(d) => core_get(config, key, *d, user, sink),
        DefaultValue::Float(d) => core_get(config, key, *d, user, sink),
    }
}

// ---- through the std client --------------------------------------------------------

static CLIENT_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A valid SDK key unique in this process (the client registry is keyed by
/// SDK key): the first part of `base`'s, then a counter.
#[must_use]
pub fn unique_sdk_key(base: &str) -> String {
    let first = base
        .trim_start_matches("configcat-sdk-1/")
        .split('/')
        .next()
        .unwrap_or("ANCHORBENCH-CONFIGXXXX");
    let count = CLIENT_COUNTER.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id();
    format!("configcat-sdk-1/{first}/bench-{pid:07}-{count:09}")
}

/// Builds a std client on `config` with the file as a LocalOnly flag
/// override (no network), under a unique SDK key, and waits until it is ready.
///
/// # Errors
/// The client cannot be created.
pub fn std_client(config: &ConfigFile) -> Result<Client, String> {
    let options = ClientOptions::default().with_flag_overrides(FlagOverrides::from_file(
        &config.path,
        OverrideBehaviour::LocalOnly,
    ));
    let client = Client::get(&unique_sdk_key(&config.sdk_key), options)
        .map_err(|e| format!("{}: {e}", config.name))?;
    client.wait_for_ready(Duration::from_secs(10));
    Ok(client)
}

/// One `get_value` through the std client, folded as one checksum line.
#[inline]
pub fn std_get<T: FlagDefault<Output = T> + Canon + Clone>(
    client: &Client,
    key: &str,
    default: &T,
    user: Option<&User>,
    sink: &mut Sink,
) {
    sink.line(client.get_value(key, default.clone(), user));
}

/// `for_each_value` through the std client: folded as the `get_all_values`
/// line when checking, each value only hidden from the optimiser when timed.
pub fn std_for_each(client: &Client, user: Option<&User>, sink: &mut Sink) {
    if sink.folding {
        let mut map = BTreeMap::new();
        client.for_each_value(user, |key, value| {
            map.insert(key.to_owned(), value.to_owned_value());
        });
        fold_value_map(&map, sink);
    } else {
        client.for_each_value(user, |key, value| {
            black_box((key, value));
        });
    }
}

/// The checksum of a workload through a std client, over users 0..1023.
#[must_use]
pub fn std_check(workload: &Workload, client: &Client) -> u64 {
    let mut sink = Sink::checksum();
    for index in 0..USERS {
        let user = workload.user(index);
        match &workload.op {
            Op::GetValue { key, default } => match default {
                DefaultValue::Bool(d) => std_get(client, key, d, user, &mut sink),
                DefaultValue::Text(d) => std_get(client, key, d, user, &mut sink),
                DefaultValue::Int(d) => std_get(client, key, d, user, &mut sink),
                DefaultValue::Float(d) => std_get(client, key, d, user, &mut sink),
            },
            Op::GetAllValues => fold_value_map(&client.get_all_values(user), &mut sink),
        }
    }
    sink.finish()
}

// ---- the floor: bare hashes of the inputs the rules demand --------------------------

/// SHA-1 inputs of W3's % options per user: `(setting key, identifier)`.
#[must_use]
pub fn sha1_inputs(workload: &Workload) -> Vec<(String, String)> {
    let Op::GetValue { key, .. } = &workload.op else {
        return Vec::new();
    };
    (0..USERS)
        .filter_map(|index| workload.user(index))
        .map(|user| (key.clone(), user.identifier().to_owned()))
        .collect()
}

/// Bare SHA-1 of W3's input, the setting key then the identifier, with the
/// same crate the core uses: the floor W3 is measured against.
#[must_use]
pub fn bare_sha1(key: &str, identifier: &str) -> [u8; 20] {
    let mut hasher = sha1::Sha1::new();
    hasher.update(key.as_bytes());
    hasher.update(identifier.as_bytes());
    hasher.finalize().into()
}

/// The SHA-256 inputs (`value + salt + setting key`) that evaluating a flag
/// demands per user, read from the config's rules: every confidential
/// condition of every rule, as long as each rule's conditions hold up to
/// it (W4's first conditions all hold, so both conditions of each hashed rule count).
///
/// # Errors
/// The config is not JSON or has no such flag.
pub fn sha256_inputs(workload: &Workload) -> Result<Vec<Vec<Vec<u8>>>, String> {
    let Op::GetValue { key, .. } = &workload.op else {
        return Err(format!("{}: not a get_value workload", workload.id));
    };
    let root: Json = serde_json::from_slice(&workload.config.json).map_err(|e| e.to_string())?;
    let salt = config_salt(&root)?;
    let rules = root
        .get("f")
        .and_then(|flags| flags.get(key.as_str()))
        .and_then(|flag| flag.get("r"))
        .and_then(Json::as_array)
        .ok_or_else(|| format!("config has no rules for {key}"))?;
    let conditions: Vec<&Json> = rules
        .iter()
        .filter_map(|rule| rule.get("c").and_then(Json::as_array))
        .flatten()
        .filter_map(|condition| condition.get("u"))
        .collect();
    let mut per_user = Vec::with_capacity(USERS);
    for index in 0..USERS {
        let user = workload.user(index);
        let mut inputs = Vec::new();
        for condition in &conditions {
            let Some(WireCondition {
                attribute,
                comparator,
                items,
            }) = WireCondition::read(condition)
            else {
                continue;
            };
            let Some(value) = user.and_then(|user| attribute_text(user, attribute)) else {
                continue;
            };
            let mut push = |bytes: &[u8]| inputs.push(salted(bytes, salt, key));
            match comparator {
                16 | 17 | 20 | 21 => push(value.as_bytes()),
                22..=25 => {
                    for (length, _) in items.iter().filter_map(|item| hashed_item(item)) {
                        if let Some(part) = hashed_part(value.as_bytes(), comparator, length) {
                            push(part);
                        }
                    }
                }
                26 | 27 => {
                    let list: Vec<String> = serde_json::from_str(&value).unwrap_or_default();
                    for item in list {
                        push(item.as_bytes());
                    }
                }
                _ => {}
            }
        }
        per_user.push(inputs);
    }
    Ok(per_user)
}

/// What one evaluation of a segment or prerequisite workload (W5, W6)
/// hashes, and the value it reaches, found by walking the config's JSON.
pub struct HashedPath {
    /// The SHA-256 inputs (`value + salt + context`) in the order hashed.
    pub inputs: Vec<Vec<u8>>,
    /// The value the rules reach, as the workload's checksum folds it.
    pub value: String,
}

/// The SHA-256 inputs that evaluating a flag demands per user, when every
/// condition on its path is a confidential comparison, a segment or a
/// prerequisite (W5, W6): conditions are decided in order, and a rule's
/// remaining conditions are not hashed once one fails, as in every SDK.
/// The value reached is returned too, so a test can hold it to the
/// workload's checksum: the walk is then known to hash what the rules need.
///
/// # Errors
/// The config is not JSON, or the path holds a condition the walk does
/// not decide (a cleartext comparator, % options).
pub fn hashed_paths(workload: &Workload) -> Result<Vec<HashedPath>, String> {
    let Op::GetValue { key, .. } = &workload.op else {
        return Err(format!("{}: not a get_value workload", workload.id));
    };
    let root: Json = serde_json::from_slice(&workload.config.json).map_err(|e| e.to_string())?;
    (0..USERS)
        .map(|index| {
            let mut walk = HashWalk {
                root: &root,
                user: workload.user(index),
                inputs: Vec::new(),
            };
            let value = walk.flag_value(key)?;
            let value = match value {
                Json::String(text) => text,
                other => other.to_string(),
            };
            Ok(HashedPath {
                inputs: walk.inputs,
                value,
            })
        })
        .collect()
}

struct HashWalk<'a> {
    root: &'a Json,
    user: Option<&'a User>,
    inputs: Vec<Vec<u8>>,
}

impl HashWalk<'_> {
    fn flag_value(&mut self, key: &str) -> Result<Json, String> {
        let flag = self
            .root
            .get("f")
            .and_then(|flags| flags.get(key))
            .ok_or_else(|| format!("no flag {key}"))?;
        let rules = flag.get("r").and_then(Json::as_array);
        for rule in rules.into_iter().flatten() {
            let conditions = rule.get("c").and_then(Json::as_array);
            if self.all_of(conditions.into_iter().flatten(), |walk, condition| {
                walk.holds(condition, key)
            })? {
                return served(rule.get("s"));
            }
        }
        served(Some(flag))
    }

    /// Whether every condition holds, decided in order and stopping at the
    /// first that fails (as the SDKs do, so later ones are not hashed).
    fn all_of<'j>(
        &mut self,
        conditions: impl IntoIterator<Item = &'j Json>,
        mut holds: impl FnMut(&mut Self, &'j Json) -> Result<bool, String>,
    ) -> Result<bool, String> {
        for condition in conditions {
            if !holds(self, condition)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn holds(&mut self, condition: &Json, context: &str) -> Result<bool, String> {
        let comparator = |part: &Json| part.get("c").and_then(Json::as_i64);
        if let Some(user_condition) = condition.get("u") {
            return self.user_condition(user_condition, context);
        }
        if let Some(segment) = condition.get("s") {
            let index = segment
                .get("s")
                .and_then(Json::as_u64)
                .ok_or("segment index")?;
            let definition = self
                .root
                .get("s")
                .and_then(|segments| segments.get(usize::try_from(index).ok()?))
                .ok_or("no such segment")?;
            let name = definition
                .get("n")
                .and_then(Json::as_str)
                .ok_or("segment name")?;
            // A segment's conditions are user conditions, not wrapped in "u".
            let conditions = definition.get("r").and_then(Json::as_array);
            let is_in = self.all_of(conditions.into_iter().flatten(), |walk, condition| {
                walk.user_condition(condition, name)
            })?;
            return match comparator(segment) {
                Some(0) => Ok(is_in),
                Some(1) => Ok(!is_in),
                other => Err(format!("segment comparator {other:?}")),
            };
        }
        if let Some(prerequisite) = condition.get("p") {
            let key = prerequisite
                .get("f")
                .and_then(Json::as_str)
                .ok_or("prerequisite key")?;
            let value = self.flag_value(key)?;
            let expected = served(Some(prerequisite))?;
            return match comparator(prerequisite) {
                Some(0) => Ok(value == expected),
                Some(1) => Ok(value != expected),
                other => Err(format!("prerequisite comparator {other:?}")),
            };
        }
        Err("a condition the walk does not decide".to_owned())
    }

    /// Confidential comparisons only: those are what the floor is made of.
    fn user_condition(&mut self, condition: &Json, context: &str) -> Result<bool, String> {
        let salt = config_salt(self.root)?;
        let WireCondition {
            attribute,
            comparator,
            items,
        } = WireCondition::read(condition)
            .ok_or("a user condition without attribute or comparator")?;
        let Some(value) = self.user.and_then(|user| attribute_text(user, attribute)) else {
            // A missing attribute fails the condition without hashing.
            return Ok(false);
        };
        let mut hash_hex = |bytes: &[u8]| {
            let input = salted(bytes, salt, context);
            let digest = sha2::Sha256::digest(&input);
            self.inputs.push(input);
            digest
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect::<String>()
        };
        match comparator {
            16 | 17 => {
                let found = items.contains(&hash_hex(value.as_bytes()).as_str());
                Ok(found == (comparator == 16))
            }
            22..=25 => {
                let mut found = false;
                for item in &items {
                    let (length, hash) = hashed_item(item).ok_or("a hashed item")?;
                    let part = hashed_part(value.as_bytes(), comparator, length);
                    if part.is_some_and(|part| hash_hex(part) == hash) {
                        found = true;
                        break;
                    }
                }
                Ok(found == (comparator % 2 == 0))
            }
            other => Err(format!("comparator {other} is not a confidential one")),
        }
    }
}

/// The value a flag or rule serves, or a prerequisite expects: its `v` object's only member.
fn served(holder: Option<&Json>) -> Result<Json, String> {
    holder
        .and_then(|holder| holder.get("v"))
        .and_then(Json::as_object)
        .and_then(|value| value.values().next())
        .cloned()
        .ok_or_else(|| "no served value".to_owned())
}

/// A user condition as config JSON writes it.
struct WireCondition<'j> {
    attribute: &'j str,
    comparator: i64,
    /// The comparison list's items; empty when it has none.
    items: Vec<&'j str>,
}

impl<'j> WireCondition<'j> {
    fn read(condition: &'j Json) -> Option<Self> {
        Some(Self {
            attribute: condition.get("a").and_then(Json::as_str)?,
            comparator: condition.get("c").and_then(Json::as_i64)?,
            items: condition
                .get("l")
                .and_then(Json::as_array)
                .map(|list| list.iter().filter_map(Json::as_str).collect())
                .unwrap_or_default(),
        })
    }
}

/// The config's salt (`p.s`).
fn config_salt(root: &Json) -> Result<&str, String> {
    root.pointer("/p/s")
        .and_then(Json::as_str)
        .ok_or_else(|| "config has no salt".to_owned())
}

/// A hashed STARTS WITH / ENDS WITH item, `length_digest`: its two parts.
fn hashed_item(item: &str) -> Option<(usize, &str)> {
    let (length, digest) = item.split_once('_')?;
    Some((length.parse().ok()?, digest))
}

/// A confidential hash's input: the value, then the config salt, then the
/// context salt (setting key or segment name).
fn salted(value: &[u8], salt: &str, context: &str) -> Vec<u8> {
    [value, salt.as_bytes(), context.as_bytes()].concat()
}

/// What a hashed STARTS WITH (22, 23) or ENDS WITH (24, 25) comparator
/// hashes of `value`: its first or last `length` bytes, if it has them.
fn hashed_part(value: &[u8], comparator: i64, length: usize) -> Option<&[u8]> {
    if comparator <= 23 {
        value.get(..length)
    } else {
        value
            .len()
            .checked_sub(length)
            .and_then(|start| value.get(start..))
    }
}

fn attribute_text(user: &User, name: &str) -> Option<String> {
    match name {
        configcat_core::IDENTIFIER => Some(user.identifier().to_owned()),
        configcat_core::EMAIL => user.email().map(str::to_owned),
        configcat_core::COUNTRY => user.country().map(str::to_owned),
        _ => match user.custom(name)? {
            UserValue::Text(text) => Some(text.clone()),
            UserValue::StringList(list) => serde_json::to_string(list).ok(),
            _ => None,
        },
    }
}
