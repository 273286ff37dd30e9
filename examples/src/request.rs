//! One evaluation request and its one-line JSON answer.

use configcat_core::{Config, EvaluationDetails, User, Value};
use serde::Serialize;
use serde_json::{Map, Value as Json};

use crate::captured_log::CapturedLog;
use crate::user_json::{kind_of, optional_user_from_json};

/// The answer to one request, serialized as one JSON line in this field order.
#[derive(Debug, Serialize)]
struct Response<'a> {
    key: Option<&'a str>,
    value: Json,
    variation_id: Option<std::borrow::Cow<'a, str>>,
    is_default_value: bool,
    error: Option<String>,
    matched_rule_index: Option<usize>,
    matched_percentage_option_index: Option<usize>,
    /// Present only with `--log`.
    #[serde(skip_serializing_if = "Option::is_none")]
    log: Option<String>,
}

impl<'a> Response<'a> {
    /// The answer to a request that could not be evaluated at all.
    fn rejected(key: Option<&'a str>, error: String, with_log: bool) -> Self {
        Self {
            key,
            value: Json::Null,
            variation_id: None,
            is_default_value: true,
            error: Some(error),
            matched_rule_index: None,
            matched_percentage_option_index: None,
            log: with_log.then(String::new),
        }
    }

    fn from_details<T>(
        key: &'a str,
        details: EvaluationDetails<'a, T>,
        value: impl FnOnce(T) -> Json,
    ) -> Self {
        Self {
            key: Some(key),
            value: value(details.value),
            variation_id: details.variation_id,
            is_default_value: details.is_default_value,
            error: details.error.map(|error| error.to_string()),
            matched_rule_index: details.matched_targeting_rule_index,
            matched_percentage_option_index: details.matched_percentage_option_index,
            log: None,
        }
    }

    fn into_line(self) -> String {
        serde_json::to_string(&self).unwrap_or_else(|error| {
            // Unreachable with these field types; still answer with a JSON line.
            let mut object = Map::new();
            object.insert("error".into(), Json::String(error.to_string()));
            Json::Object(object).to_string()
        })
    }
}

/// The default of a request, which picks the typed read.
#[derive(Debug, Clone, Copy)]
enum TypedDefault<'a> {
    /// No default: whatever type the setting holds.
    Any,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(&'a str),
}

/// Answers one request line: `{"key": ..., "default": ..., "user": ...}`.
///
/// The answer is one JSON object on one line (without the newline):
/// `key`, `value`, `variation_id`, `is_default_value`, `error`,
/// `matched_rule_index`, `matched_percentage_option_index` and, when
/// `with_log`, `log` (every record of this evaluation as
/// `LEVEL [event id] message`, joined with `\n`). A request that cannot be
/// read (not JSON, no key, a default or user of the wrong form) is answered
/// with its `error` and `is_default_value: true`.
#[must_use]
pub fn evaluate_request_line(config: &Config, line: &str, with_log: bool) -> String {
    evaluate_request_bytes(config, line.as_bytes(), with_log)
}

/// As [`evaluate_request_line`], for a line that may not be UTF-8 (then it is
/// answered with an error).
#[must_use]
pub fn evaluate_request_bytes(config: &Config, line: &[u8], with_log: bool) -> String {
    let request: Json = match serde_json::from_slice(line) {
        Ok(request) => request,
        Err(error) => {
            return Response::rejected(None, format!("invalid request: {error}"), with_log)
                .into_line();
        }
    };
    let Json::Object(request) = &request else {
        return Response::rejected(
            None,
            format!(
                "invalid request: expected a JSON object, not {}",
                kind_of(&request)
            ),
            with_log,
        )
        .into_line();
    };
    let key = match request.get("key") {
        Some(Json::String(key)) => key.as_str(),
        Some(other) => {
            let error = format!(
                "invalid request: \"key\" must be a string, not {}",
                kind_of(other)
            );
            return Response::rejected(None, error, with_log).into_line();
        }
        None => {
            let error = "invalid request: \"key\" is missing".to_owned();
            return Response::rejected(None, error, with_log).into_line();
        }
    };
    let parsed = typed_default(request.get("default")).and_then(|default| {
        optional_user_from_json(request.get("user"))
            .map(|user| (default, user))
            .map_err(|error| format!("invalid request: {error}"))
    });
    match parsed {
        Ok((default, user)) => evaluate(config, key, default, user.as_ref(), with_log),
        Err(error) => Response::rejected(Some(key), error, with_log).into_line(),
    }
}

/// Evaluates one flag without a default (whatever type it holds) and answers
/// as [`evaluate_request_line`] does. `user` is the JSON form read by
/// [`crate::user_from_json`]; `None` or `null` means no User Object.
#[must_use]
pub fn evaluate_flag(config: &Config, key: &str, user: Option<&Json>, with_log: bool) -> String {
    match optional_user_from_json(user) {
        Ok(user) => evaluate(config, key, TypedDefault::Any, user.as_ref(), with_log),
        Err(error) => {
            Response::rejected(Some(key), format!("invalid user: {error}"), with_log).into_line()
        }
    }
}

fn typed_default(json: Option<&Json>) -> Result<TypedDefault<'_>, String> {
    match json {
        None | Some(Json::Null) => Ok(TypedDefault::Any),
        Some(Json::Bool(value)) => Ok(TypedDefault::Bool(*value)),
        Some(Json::String(value)) => Ok(TypedDefault::Text(value)),
        Some(Json::Number(number)) => {
            if let Some(value) = number.as_i64() {
                Ok(TypedDefault::Int(value))
            } else if number.is_f64() {
                number
                    .as_f64()
                    .map(TypedDefault::Float)
                    .ok_or_else(|| format!("invalid request: \"default\" {number} is not a number"))
            } else {
                Err(format!(
                    "invalid request: \"default\" {number} does not fit a 64-bit integer"
                ))
            }
        }
        Some(other) => Err(format!(
            "invalid request: \"default\" must be a bool, number, string or null, not {}",
            kind_of(other)
        )),
    }
}

fn evaluate(
    config: &Config,
    key: &str,
    default: TypedDefault<'_>,
    user: Option<&User>,
    with_log: bool,
) -> String {
    let sink = CapturedLog::new(with_log);
    let mut response = match default {
        TypedDefault::Any => {
            Response::from_details(key, config.evaluate(key, user, &sink), |value| {
                value.map_or(Json::Null, value_json)
            })
        }
        TypedDefault::Bool(default) => Response::from_details(
            key,
            config.get_value_details(key, default, user, &sink),
            Json::Bool,
        ),
        TypedDefault::Int(default) => Response::from_details(
            key,
            config.get_value_details(key, default, user, &sink),
            Json::from,
        ),
        TypedDefault::Float(default) => Response::from_details(
            key,
            config.get_value_details(key, default, user, &sink),
            float_json,
        ),
        TypedDefault::Text(default) => Response::from_details(
            key,
            config.get_value_details(key, default, user, &sink),
            Json::from,
        ),
    };
    if with_log {
        response.log = Some(sink.into_text());
    }
    response.into_line()
}

fn value_json(value: Value<'_>) -> Json {
    match value {
        Value::Bool(value) => Json::Bool(value),
        Value::Text(value) => Json::from(value),
        Value::Int(value) => Json::from(value),
        Value::Float(value) => float_json(value),
    }
}

/// A decimal as a JSON number; JSON has no NaN or infinity, so those are `null`.
fn float_json(value: f64) -> Json {
    serde_json::Number::from_f64(value).map_or(Json::Null, Json::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use configcat_core::OwnedValue;

    /// A config with one setting of each type; the text and int settings
    /// have a targeting rule, the int one also % options.
    const CONFIG: &str = r#"{"p":{"s":"test-salt"},"f":{
        "flag":{"t":0,"v":{"b":true},"i":"flag-on"},
        "text":{"t":1,"v":{"s":"plain"},"i":"text-plain",
            "r":[{"c":[{"u":{"a":"Email","c":32,"l":["@example.com"]}}],"s":{"v":{"s":"staff"},"i":"text-staff"}}]},
        "int":{"t":2,"v":{"i":1},"i":"int-1",
            "r":[{"c":[{"u":{"a":"Country","c":28,"s":"Hungary"}}],"s":{"v":{"i":36},"i":"int-36"}}],
            "p":[{"p":50,"v":{"i":10},"i":"int-10"},{"p":50,"v":{"i":20},"i":"int-20"}]},
        "float":{"t":3,"v":{"d":2.5},"i":"float-2.5"}
    }}"#;

    fn config() -> Config {
        Config::parse(CONFIG.as_bytes()).unwrap()
    }

    fn answer(line: &str) -> Json {
        serde_json::from_str(&evaluate_request_line(&config(), line, false)).unwrap()
    }

    #[test]
    fn answers_in_the_documented_field_order() {
        assert_eq!(
            evaluate_request_line(&config(), r#"{"key":"flag","default":false}"#, false),
            r#"{"key":"flag","value":true,"variation_id":"flag-on","is_default_value":false,"error":null,"matched_rule_index":null,"matched_percentage_option_index":null}"#
        );
    }

    #[test]
    fn bool_default() {
        let answer = answer(r#"{"key":"flag","default":false}"#);
        assert_eq!(answer["value"], true);
        assert_eq!(answer["is_default_value"], false);
    }

    #[test]
    fn text_default_with_a_matching_rule() {
        let answer = answer(
            r#"{"key":"text","default":"x","user":{"Identifier":"1","Email":"a@example.com"}}"#,
        );
        assert_eq!(answer["value"], "staff");
        assert_eq!(answer["variation_id"], "text-staff");
        assert_eq!(answer["matched_rule_index"], 0);
        assert_eq!(answer["matched_percentage_option_index"], Json::Null);
    }

    #[test]
    fn int_default_with_percentage_options() {
        // sha1("int" + "1") starts with ada047a: 182060154 % 100 = 54, in the second option.
        let answer = answer(r#"{"key":"int","default":0,"user":{"Identifier":"1"}}"#);
        assert_eq!(answer["value"], 20);
        assert!(answer["value"].is_i64());
        assert_eq!(answer["variation_id"], "int-20");
        assert_eq!(answer["matched_rule_index"], Json::Null);
        assert_eq!(answer["matched_percentage_option_index"], 1);
    }

    #[test]
    fn float_default() {
        let answer = answer(r#"{"key":"float","default":0.0}"#);
        assert_eq!(answer["value"], 2.5);
        // A whole number setting may be read as a decimal.
        let line = evaluate_request_line(&config(), r#"{"key":"int","default":1e0}"#, false);
        assert!(line.contains(r#""value":1.0,"#), "{line}");
    }

    #[test]
    fn no_default_gives_the_settings_own_type() {
        for (key, value) in [
            ("flag", Json::from(true)),
            ("text", Json::from("plain")),
            ("float", Json::from(2.5)),
        ] {
            let answer = answer(&format!(r#"{{"key":"{key}","default":null}}"#));
            assert_eq!(answer["value"], value, "{key}");
            assert_eq!(answer["error"], Json::Null, "{key}");
        }
        let line = evaluate_request_line(&config(), r#"{"key":"int","user":null}"#, false);
        assert!(line.contains(r#""value":1,"#), "{line}");
    }

    #[test]
    fn default_of_another_type_is_returned_with_the_error() {
        let answer = answer(r#"{"key":"text","default":true}"#);
        assert_eq!(answer["value"], true);
        assert_eq!(answer["is_default_value"], true);
        assert_eq!(answer["variation_id"], Json::Null);
        assert_eq!(
            answer["error"],
            "the setting is of type text, which cannot be read as bool"
        );
    }

    #[test]
    fn unknown_key() {
        let answer = answer(r#"{"key":"nope"}"#);
        assert_eq!(answer["key"], "nope");
        assert_eq!(answer["value"], Json::Null);
        assert_eq!(answer["is_default_value"], true);
        assert_eq!(
            answer["error"],
            "the key 'nope' was not found in config JSON"
        );
    }

    #[test]
    fn bad_lines_are_answered_with_an_error() {
        for (line, key, needle) in [
            ("not json", Json::Null, "invalid request: expected"),
            ("", Json::Null, "invalid request: EOF"),
            ("[1]", Json::Null, "expected a JSON object, not an array"),
            (r#"{"default":true}"#, Json::Null, "\"key\" is missing"),
            (
                r#"{"key":5}"#,
                Json::Null,
                "\"key\" must be a string, not a number",
            ),
            (
                r#"{"key":"flag","default":[true]}"#,
                Json::from("flag"),
                "not an array",
            ),
            (
                r#"{"key":"flag","default":18446744073709551615}"#,
                Json::from("flag"),
                "64-bit",
            ),
            (
                r#"{"key":"flag","user":"42"}"#,
                Json::from("flag"),
                "JSON object",
            ),
            (
                r#"{"key":"flag","user":{"D":{"datetime":"soon"}}}"#,
                Json::from("flag"),
                "RFC 3339",
            ),
        ] {
            let answer = answer(line);
            assert_eq!(answer["key"], key, "{line}");
            assert_eq!(answer["value"], Json::Null, "{line}");
            assert_eq!(answer["variation_id"], Json::Null, "{line}");
            assert_eq!(answer["is_default_value"], true, "{line}");
            assert_eq!(answer["matched_rule_index"], Json::Null, "{line}");
            assert_eq!(
                answer["matched_percentage_option_index"],
                Json::Null,
                "{line}"
            );
            assert!(answer.get("log").is_none(), "{line}");
            let error = answer["error"].as_str().unwrap();
            assert!(error.contains(needle), "{line}: {error}");
        }
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let line = evaluate_request_bytes(&config(), b"{\"key\":\"\xff\"}", true);
        let answer: Json = serde_json::from_str(&line).unwrap();
        assert!(
            answer["error"]
                .as_str()
                .unwrap()
                .starts_with("invalid request")
        );
        assert_eq!(answer["log"], "");
    }

    #[test]
    fn log_of_a_rule_flag_without_user() {
        let line = evaluate_request_line(&config(), r#"{"key":"text","default":"x"}"#, true);
        let answer: Json = serde_json::from_str(&line).unwrap();
        assert_eq!(answer["value"], "plain");
        let log = answer["log"].as_str().unwrap();
        assert!(
            log.starts_with(
                "WARNING [3001] Cannot evaluate targeting rules and % options for setting 'text' (User Object is missing)."
            ),
            "{log}"
        );
        let records: Vec<_> = log.split("\nINFO ").collect();
        assert_eq!(records.len(), 2, "{log}");
        assert!(
            records[1].starts_with("[5000] Evaluating 'text'\n"),
            "{log}"
        );
        assert!(log.ends_with("Returning 'plain'."), "{log}");
        // The log field comes last.
        assert!(line.ends_with(&format!(",\"log\":{}}}", Json::from(log))));
    }

    #[test]
    fn log_of_a_user_and_an_error() {
        let line = evaluate_request_line(
            &config(),
            r#"{"key":"missing","default":3,"user":{"Identifier":"7","Age":{"number":"NaN"}}}"#,
            true,
        );
        let answer: Json = serde_json::from_str(&line).unwrap();
        assert_eq!(answer["value"], 3);
        let log = answer["log"].as_str().unwrap();
        assert!(
            log.starts_with("ERROR [1001] Failed to evaluate setting 'missing'"),
            "{log}"
        );
        assert!(!log.contains('\n'), "{log}");
    }

    #[test]
    fn log_shows_the_user() {
        let line = evaluate_request_line(
            &config(),
            r#"{"key":"int","user":{"Identifier":"1","Country":"Hungary","Score":{"number":"-Infinity"}}}"#,
            true,
        );
        let answer: Json = serde_json::from_str(&line).unwrap();
        assert_eq!(answer["value"], 36);
        assert_eq!(answer["matched_rule_index"], 0);
        let log = answer["log"].as_str().unwrap();
        assert!(
            log.starts_with(
                r#"INFO [5000] Evaluating 'int' for User '{"Identifier":"1","Country":"Hungary","Score":"-Infinity"}'"#
            ),
            "{log}"
        );
    }

    #[test]
    fn without_log_there_is_no_log_field() {
        let line = evaluate_request_line(&config(), r#"{"key":"text"}"#, false);
        assert!(!line.contains("\"log\""), "{line}");
    }

    #[test]
    fn single_flag() {
        let user = serde_json::json!({"Identifier": "1", "Email": "b@example.com"});
        let answer: Json =
            serde_json::from_str(&evaluate_flag(&config(), "text", Some(&user), false)).unwrap();
        assert_eq!(answer["value"], "staff");
        let answer: Json =
            serde_json::from_str(&evaluate_flag(&config(), "flag", None, true)).unwrap();
        assert_eq!(answer["value"], true);
        assert!(
            answer["log"]
                .as_str()
                .unwrap()
                .starts_with("INFO [5000] Evaluating 'flag'")
        );
        let bad = serde_json::json!([1]);
        let answer: Json =
            serde_json::from_str(&evaluate_flag(&config(), "flag", Some(&bad), false)).unwrap();
        assert_eq!(answer["key"], "flag");
        assert!(
            answer["error"]
                .as_str()
                .unwrap()
                .starts_with("invalid user: ")
        );
    }

    #[test]
    fn simple_override_format() {
        let config = Config::parse_overrides(
            br#"{"flags":{"enabled":true,"name":"x","count":5,"ratio":5.0}}"#,
        )
        .unwrap();
        let line =
            |key: &str| evaluate_request_line(&config, &format!(r#"{{"key":"{key}"}}"#), false);
        assert!(line("enabled").contains(r#""value":true,"variation_id":null,"#));
        assert!(line("name").contains(r#""value":"x","#));
        assert!(line("count").contains(r#""value":5,"#));
        assert!(line("ratio").contains(r#""value":5.0,"#));
    }

    #[test]
    fn non_finite_decimals_print_as_null() {
        let config = Config::from_values([("nan".to_owned(), OwnedValue::Float(f64::NAN))]);
        let line = evaluate_request_line(&config, r#"{"key":"nan","default":1.5}"#, false);
        assert!(line.contains(r#""value":null,"#), "{line}");
        assert!(line.contains(r#""is_default_value":false,"#), "{line}");
    }
}
