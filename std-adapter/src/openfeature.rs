//! An OpenFeature provider backed by a [`Client`] (feature `openfeature`).

use std::time::Duration;

use open_feature::provider::{
    FeatureProvider, ProviderMetadata, ProviderStatus, ResolutionDetails,
};
use open_feature::{
    EvaluationContext, EvaluationContextFieldValue, EvaluationError, EvaluationErrorCode,
    EvaluationReason, EvaluationResult, FlagMetadata, StructValue, Value,
};

use configcat_core::refresh::CacheState;
use configcat_core::{FlagError, User, UserValue};

use crate::client::Client;
use crate::{EvaluationDetails, FlagDefault};

/// How long [`FeatureProvider::initialize`] waits for the first config by default.
const DEFAULT_INIT_TIMEOUT: Duration = Duration::from_secs(5);

/// Name in the provider's metadata.
const PROVIDER_NAME: &str = "ConfigCat";

/// An OpenFeature provider that evaluates flags with a ConfigCat [`Client`].
///
/// ```no_run
/// use configcat_std::open_feature::OpenFeature;
/// use configcat_std::{Client, ClientOptions, ConfigCatProvider};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::get("configcat-sdk-1/XXXXXXXXXXXXXXXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXX", ClientOptions::default())?;
/// let mut api = OpenFeature::singleton_mut().await;
/// api.set_provider(ConfigCatProvider::new(client)).await;
/// let flags = api.create_client();
/// drop(api);
/// let enabled = flags.get_bool_value("isMyAwesomeFeatureEnabled", None, None).await.unwrap_or(false);
/// # Ok(()) }
/// ```
///
/// **Values.** Boolean, string, integer and float resolutions read settings
/// of the same ConfigCat type (a whole number setting may also be read as a
/// float); a structure is read from a text setting holding a JSON object
/// (numbers that fit an `i64` become integers, other numbers floats; members
/// that are `null` are left out).
///
/// **Evaluation context.** The targeting key becomes the user's identifier
/// (a custom field `Identifier` is used when there is no targeting key);
/// `Email` and `Country` the user's e-mail and country. Every other field is a
/// custom attribute: a string is text, an integer or float a number, a bool the
/// text `"true"`/`"false"`, a date-time a date-time, and a structure holding a
/// `Vec<String>`, `Vec<&'static str>` or a [`UserValue`] that value (so string
/// lists are passed as `EvaluationContextFieldValue::new_struct(vec!["a", "b"])`).
/// Other structures are ignored. An empty context means "no user".
///
/// **Results.** The variant is the variation id. The reason is `Split` when a
/// % option chose the value, `TargetingMatch` when a targeting rule did, and
/// `Default` when the setting's own value was served. Errors: `ProviderNotReady`
/// while the client has no config, `FlagNotFound`, `TypeMismatch`,
/// `ParseError` for a structure whose text is not a JSON object, and `General`
/// (with ConfigCat's message) for other evaluation errors. The flag metadata
/// holds `matched_targeting_rule_index`, `matched_percentage_option_index` and
/// `fetch_time_unix_ms` when they apply.
///
/// **Status.** `Ready` once the client has flag data (fetched, cached or
/// local overrides), `NotReady` before, `STALE` after the client was closed
/// (it keeps serving its last config, which is no longer refreshed).
/// [`FeatureProvider::initialize`] (called by `set_provider`) waits for the
/// client's first config, at most the init timeout, without blocking the
/// async runtime.
///
/// Resolution itself calls the client's blocking API: with auto polling
/// (the default) it never waits on the network once the client is
/// initialized; with lazy loading an expired config is fetched by the reading
/// task, so prefer auto polling in async services.
#[derive(Debug, Clone)]
pub struct ConfigCatProvider {
    client: Client,
    metadata: ProviderMetadata,
    init_timeout: Duration,
}

impl ConfigCatProvider {
    /// A provider evaluating with `client`.
    #[must_use]
    pub fn new(client: Client) -> Self {
        Self {
            client,
            metadata: ProviderMetadata::new(PROVIDER_NAME),
            init_timeout: DEFAULT_INIT_TIMEOUT,
        }
    }

    /// Sets how long `initialize` waits for the client's first config
    /// (default 5 s; the client's own max init wait also applies).
    #[must_use]
    pub const fn with_init_timeout(mut self, timeout: Duration) -> Self {
        self.init_timeout = timeout;
        self
    }

    /// The client the provider evaluates with.
    #[must_use]
    pub const fn client(&self) -> &Client {
        &self.client
    }

    /// The ConfigCat user an evaluation context stands for (see the type's
    /// documentation); `None` for an empty context.
    #[must_use]
    pub fn user_from_context(context: &EvaluationContext) -> Option<User> {
        if context.targeting_key.is_none() && context.custom_fields.is_empty() {
            return None;
        }
        let identifier = context
            .targeting_key
            .clone()
            .or_else(|| context.custom_fields.get("Identifier").and_then(field_text))
            .unwrap_or_default();
        let mut user = User::new(identifier);
        // Sorted, so that the user (and the evaluation log) does not depend
        // on the order of a hash map.
        let mut fields: Vec<_> = context.custom_fields.iter().collect();
        fields.sort_by(|a, b| a.0.cmp(b.0));
        for (name, value) in fields {
            match name.as_str() {
                "Identifier" => {}
                "Email" => {
                    if let Some(email) = field_text(value) {
                        user = user.with_email(email);
                    }
                }
                "Country" => {
                    if let Some(country) = field_text(value) {
                        user = user.with_country(country);
                    }
                }
                _ => {
                    if let Some(value) = user_value(value) {
                        user.set_custom(name.clone(), value);
                    }
                }
            }
        }
        Some(user)
    }

    fn evaluate<T: FlagDefault<Output = T>>(
        &self,
        key: &str,
        default: T,
        context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<T>> {
        let user = Self::user_from_context(context);
        let details = self.client.get_value_details(key, default, user.as_ref());
        resolution(details)
    }
}

/// The text of a context field, for the attributes that must be text.
fn field_text(value: &EvaluationContextFieldValue) -> Option<String> {
    match user_value(value)? {
        UserValue::Text(text) => Some(text),
        UserValue::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// A context field as a ConfigCat custom attribute.
#[expect(
    clippy::cast_precision_loss,
    reason = "ConfigCat numbers are f64, as in the other SDKs"
)]
fn user_value(value: &EvaluationContextFieldValue) -> Option<UserValue> {
    Some(match value {
        EvaluationContextFieldValue::String(text) => UserValue::Text(text.clone()),
        EvaluationContextFieldValue::Bool(flag) => UserValue::Text(flag.to_string()),
        EvaluationContextFieldValue::Int(number) => UserValue::Number(*number as f64),
        EvaluationContextFieldValue::Float(number) => UserValue::Number(*number),
        EvaluationContextFieldValue::DateTime(instant) => {
            let millis = instant.unix_timestamp_nanos() / 1_000_000;
            UserValue::from_unix_millis(i64::try_from(millis).ok()?)
        }
        EvaluationContextFieldValue::Struct(any) => {
            if let Some(list) = any.downcast_ref::<Vec<String>>() {
                UserValue::StringList(list.clone())
            } else if let Some(list) = any.downcast_ref::<Vec<&'static str>>() {
                UserValue::StringList(list.iter().map(|item| (*item).to_owned()).collect())
            } else if let Some(value) = any.downcast_ref::<UserValue>() {
                value.clone()
            } else {
                return None;
            }
        }
    })
}

/// OpenFeature's view of the client's evaluation details.
fn resolution<T>(details: EvaluationDetails<T>) -> EvaluationResult<ResolutionDetails<T>> {
    if let Some(error) = details.error {
        return Err(evaluation_error(&error));
    }
    let reason = if details.matched_percentage_option_index.is_some() {
        EvaluationReason::Split
    } else if details.matched_targeting_rule_index.is_some() {
        EvaluationReason::TargetingMatch
    } else {
        EvaluationReason::Default
    };
    let mut metadata = FlagMetadata::default();
    if let Some(index) = details.matched_targeting_rule_index {
        metadata.add_value("matched_targeting_rule_index", index_value(index));
    }
    if let Some(index) = details.matched_percentage_option_index {
        metadata.add_value("matched_percentage_option_index", index_value(index));
    }
    if let Some(millis) = details
        .fetch_time_ms
        .and_then(|millis| i64::try_from(millis).ok())
    {
        metadata.add_value("fetch_time_unix_ms", millis);
    }
    Ok(ResolutionDetails {
        value: details.value,
        variant: details.variation_id.map(std::borrow::Cow::into_owned),
        reason: Some(reason),
        flag_metadata: Some(metadata),
    })
}

fn index_value(index: usize) -> i64 {
    i64::try_from(index).unwrap_or(i64::MAX)
}

fn evaluation_error(error: &FlagError) -> EvaluationError {
    let code = match error {
        FlagError::ConfigJsonMissing => EvaluationErrorCode::ProviderNotReady,
        FlagError::SettingNotFound { .. } => EvaluationErrorCode::FlagNotFound,
        FlagError::TypeMismatch { .. } => EvaluationErrorCode::TypeMismatch,
        other => EvaluationErrorCode::General(other.to_string()),
    };
    EvaluationError {
        code,
        message: Some(error.to_string()),
    }
}

/// A JSON object (the text of a structured setting) as an OpenFeature structure.
fn parse_structure(text: &str) -> EvaluationResult<StructValue> {
    let parsed: serde_json::Value =
        serde_json::from_str(text).map_err(|error| EvaluationError {
            code: EvaluationErrorCode::ParseError,
            message: Some(format!("the setting's text is not JSON: {error}")),
        })?;
    match json_value(parsed) {
        Some(Value::Struct(structure)) => Ok(structure),
        _ => Err(EvaluationError {
            code: EvaluationErrorCode::ParseError,
            message: Some("the setting's text is not a JSON object".to_owned()),
        }),
    }
}

/// `None` for `null`, which OpenFeature values cannot hold.
fn json_value(value: serde_json::Value) -> Option<Value> {
    Some(match value {
        serde_json::Value::Null => return None,
        serde_json::Value::Bool(flag) => Value::Bool(flag),
        serde_json::Value::Number(number) => match (number.as_i64(), number.as_f64()) {
            (Some(integer), _) => Value::Int(integer),
            (None, Some(float)) => Value::Float(float),
            (None, None) => return None,
        },
        serde_json::Value::String(text) => Value::String(text),
        serde_json::Value::Array(items) => {
            Value::Array(items.into_iter().filter_map(json_value).collect())
        }
        serde_json::Value::Object(members) => Value::Struct(StructValue {
            fields: members
                .into_iter()
                .filter_map(|(name, value)| json_value(value).map(|value| (name, value)))
                .collect(),
        }),
    })
}

#[open_feature::async_trait]
impl FeatureProvider for ConfigCatProvider {
    async fn initialize(&mut self, _context: &EvaluationContext) {
        // `wait_for_ready` blocks: run it on its own thread so that the async
        // runtime (whichever it is) keeps running meanwhile.
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let client = self.client.clone();
        let timeout = self.init_timeout;
        std::thread::spawn(move || {
            let _ = sender.send(client.wait_for_ready(timeout));
        });
        let _ = receiver.await;
    }

    fn status(&self) -> ProviderStatus {
        // A zero timeout: tells the state without waiting (in lazy loading
        // mode, an expired config is refreshed first, as a read would).
        match self.client.wait_for_ready(Duration::ZERO) {
            CacheState::NoFlagData => ProviderStatus::NotReady,
            // A closed client keeps serving its last config, never updated again.
            _ if self.client.is_closed() => ProviderStatus::STALE,
            _ => ProviderStatus::Ready,
        }
    }

    fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }

    async fn resolve_bool_value(
        &self,
        flag_key: &str,
        evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<bool>> {
        self.evaluate(flag_key, false, evaluation_context)
    }

    async fn resolve_int_value(
        &self,
        flag_key: &str,
        evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<i64>> {
        self.evaluate(flag_key, 0_i64, evaluation_context)
    }

    async fn resolve_float_value(
        &self,
        flag_key: &str,
        evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<f64>> {
        self.evaluate(flag_key, 0.0_f64, evaluation_context)
    }

    async fn resolve_string_value(
        &self,
        flag_key: &str,
        evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<String>> {
        self.evaluate(flag_key, String::new(), evaluation_context)
    }

    async fn resolve_struct_value(
        &self,
        flag_key: &str,
        evaluation_context: &EvaluationContext,
    ) -> EvaluationResult<ResolutionDetails<StructValue>> {
        let text = self.evaluate(flag_key, String::new(), evaluation_context)?;
        Ok(ResolutionDetails {
            value: parse_structure(&text.value)?,
            variant: text.variant,
            reason: text.reason,
            flag_metadata: text.flag_metadata,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_objects_become_structures() {
        let structure =
            parse_structure(r#"{"a":1,"b":2.5,"c":"x","d":[true,null,{"e":null}],"f":null,"g":18446744073709551615}"#)
                .expect("an object");
        assert_eq!(structure.fields.get("a"), Some(&Value::Int(1)));
        assert_eq!(structure.fields.get("b"), Some(&Value::Float(2.5)));
        assert_eq!(structure.fields.get("c"), Some(&Value::String("x".into())));
        assert_eq!(
            structure.fields.get("d"),
            Some(&Value::Array(vec![
                Value::Bool(true),
                Value::Struct(StructValue::default())
            ]))
        );
        assert_eq!(structure.fields.get("f"), None);
        assert_eq!(
            structure.fields.get("g"),
            Some(&Value::Float(18_446_744_073_709_551_615.0))
        );
    }

    #[test]
    fn other_texts_are_parse_errors() {
        for text in ["", "not json", "[1,2]", "42", "\"text\"", "null"] {
            let error = parse_structure(text).expect_err(text);
            assert_eq!(error.code, EvaluationErrorCode::ParseError, "{text}");
        }
    }
}
