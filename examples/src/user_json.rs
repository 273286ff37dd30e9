//! Reading a User Object from its JSON form.
//!
//! `{"Identifier": "42", "Email": "jane@example.com", "Country": "Hungary",
//! "Plan": "Pro", "Age": 31, "Roles": ["admin"],
//! "SignedUp": {"datetime": "2024-03-01T12:00:00+02:00"}, "Score": {"number": "NaN"}}`

use chrono::DateTime;
use configcat_core::{COUNTRY, EMAIL, IDENTIFIER, User, UserValue};
use serde_json::{Map, Value};

/// Builds a [`User`] from a JSON object.
///
/// `Identifier` (missing means `""`), `Email` and `Country` must be strings
/// (`null` counts as missing). Every other member is a custom attribute:
/// a string is text, a number is a number, an array of strings is a string
/// list, `{"datetime": "<RFC 3339>"}` is a date-time (Unix seconds with a
/// millisecond fraction), `{"number": "NaN"}` (or `"Infinity"`,
/// `"-Infinity"`, or a JSON number) is a number, and `null` leaves the
/// attribute out.
///
/// # Errors
/// `json` is not an object, or a member has a value of none of these forms;
/// the message names the attribute.
pub fn user_from_json(json: &Value) -> Result<User, String> {
    let Value::Object(object) = json else {
        return Err(format!(
            "the user must be a JSON object or null, not {}",
            kind_of(json)
        ));
    };
    let mut user = User::new(well_known(object, IDENTIFIER)?.unwrap_or_default());
    if let Some(email) = well_known(object, EMAIL)? {
        user = user.with_email(email);
    }
    if let Some(country) = well_known(object, COUNTRY)? {
        user = user.with_country(country);
    }
    for (name, value) in object {
        if matches!(name.as_str(), IDENTIFIER | EMAIL | COUNTRY) {
            continue;
        }
        if let Some(value) = custom_value(name, value)? {
            user.set_custom(name.as_str(), value);
        }
    }
    Ok(user)
}

/// As [`user_from_json`], with a missing or `null` user meaning no User Object.
///
/// # Errors
/// As [`user_from_json`].
pub fn optional_user_from_json(json: Option<&Value>) -> Result<Option<User>, String> {
    match json {
        None | Some(Value::Null) => Ok(None),
        Some(json) => user_from_json(json).map(Some),
    }
}

fn well_known<'a>(object: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, String> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(format!(
            "the user attribute '{name}' must be a string, not {}",
            kind_of(other)
        )),
    }
}

fn custom_value(name: &str, value: &Value) -> Result<Option<UserValue>, String> {
    let unsupported = || {
        format!(
            "the user attribute '{name}' has an unsupported value {value}: use a string, a number, \
             an array of strings, {{\"datetime\": \"<RFC 3339>\"}} or {{\"number\": \"NaN\"}}"
        )
    };
    match value {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(UserValue::Text(text.clone()))),
        Value::Number(number) => number
            .as_f64()
            .map(|number| Some(UserValue::Number(number)))
            .ok_or_else(unsupported),
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(String::from))
            .collect::<Option<Vec<_>>>()
            .map(|list| Some(UserValue::StringList(list)))
            .ok_or_else(unsupported),
        Value::Object(tagged) => {
            let mut members = tagged.iter();
            match (members.next(), members.next()) {
                (Some((tag, Value::String(text))), None) if tag == "datetime" => {
                    let instant = DateTime::parse_from_rfc3339(text).map_err(|error| {
                        format!(
                            "the user attribute '{name}' is not an RFC 3339 date-time ('{text}': {error})"
                        )
                    })?;
                    Ok(Some(UserValue::from_unix_millis(
                        instant.timestamp_millis(),
                    )))
                }
                (Some((tag, inner)), None) if tag == "number" => match inner {
                    Value::String(text) => match text.as_str() {
                        "NaN" => Ok(Some(UserValue::Number(f64::NAN))),
                        "Infinity" | "+Infinity" => Ok(Some(UserValue::Number(f64::INFINITY))),
                        "-Infinity" => Ok(Some(UserValue::Number(f64::NEG_INFINITY))),
                        _ => Err(unsupported()),
                    },
                    Value::Number(number) => number
                        .as_f64()
                        .map(|number| Some(UserValue::Number(number)))
                        .ok_or_else(unsupported),
                    _ => Err(unsupported()),
                },
                _ => Err(unsupported()),
            }
        }
        Value::Bool(_) => Err(unsupported()),
    }
}

/// The name of a JSON value's type, for error messages.
pub(crate) const fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(json: &Value) -> User {
        user_from_json(json).unwrap()
    }

    #[test]
    fn well_known_attributes() {
        let user = user(&json!({"Identifier": "42", "Email": "a@b.c", "Country": "Hungary"}));
        assert_eq!(user.identifier(), "42");
        assert_eq!(user.email(), Some("a@b.c"));
        assert_eq!(user.country(), Some("Hungary"));
        assert_eq!(user.custom_attributes().count(), 0);
    }

    #[test]
    fn missing_identifier_is_empty() {
        let user = user(&json!({"Email": "a@b.c", "Country": null}));
        assert_eq!(user.identifier(), "");
        assert_eq!(user.email(), Some("a@b.c"));
        assert_eq!(user.country(), None);
    }

    #[test]
    fn text_number_and_list() {
        let user = user(&json!({
            "Identifier": "1", "Plan": "Pro", "Age": 31, "Ratio": 0.5, "Roles": ["admin", "beta"], "Gone": null
        }));
        assert_eq!(user.custom("Plan"), Some(&UserValue::Text("Pro".into())));
        assert_eq!(user.custom("Age"), Some(&UserValue::Number(31.0)));
        assert_eq!(user.custom("Ratio"), Some(&UserValue::Number(0.5)));
        assert_eq!(
            user.custom("Roles"),
            Some(&UserValue::StringList(vec!["admin".into(), "beta".into()]))
        );
        assert_eq!(user.custom("Gone"), None);
    }

    #[test]
    fn custom_attributes_keep_their_order() {
        let user = user(&json!({"Identifier": "1", "Zeta": "z", "Alpha": "a"}));
        let names: Vec<_> = user.custom_attributes().map(|(name, _)| name).collect();
        assert_eq!(names, ["Zeta", "Alpha"]);
    }

    #[test]
    fn date_times_with_offsets_and_fractions() {
        let user = user(&json!({
            "Utc": {"datetime": "2023-08-31T16:00:00Z"},
            "Offset": {"datetime": "2023-08-31T18:00:00+02:00"},
            "Millis": {"datetime": "2023-03-31T23:59:59.999Z"},
            "Before1970": {"datetime": "1969-12-31T23:59:59.5-00:00"}
        }));
        assert_eq!(
            user.custom("Utc"),
            Some(&UserValue::DateTime(1_693_497_600.0))
        );
        assert_eq!(
            user.custom("Offset"),
            Some(&UserValue::DateTime(1_693_497_600.0))
        );
        assert_eq!(
            user.custom("Millis"),
            Some(&UserValue::DateTime(1_680_307_199.999))
        );
        assert_eq!(user.custom("Before1970"), Some(&UserValue::DateTime(-0.5)));
    }

    #[test]
    fn non_finite_numbers() {
        let user = user(&json!({
            "A": {"number": "NaN"}, "B": {"number": "Infinity"}, "C": {"number": "-Infinity"}, "D": {"number": 2}
        }));
        assert!(matches!(user.custom("A"), Some(UserValue::Number(n)) if n.is_nan()));
        assert_eq!(user.custom("B"), Some(&UserValue::Number(f64::INFINITY)));
        assert_eq!(
            user.custom("C"),
            Some(&UserValue::Number(f64::NEG_INFINITY))
        );
        assert_eq!(user.custom("D"), Some(&UserValue::Number(2.0)));
    }

    #[test]
    fn null_user_is_no_user() {
        assert_eq!(optional_user_from_json(None), Ok(None));
        assert_eq!(optional_user_from_json(Some(&Value::Null)), Ok(None));
        assert_eq!(
            optional_user_from_json(Some(&json!({"Identifier": "x"}))),
            Ok(Some(User::new("x")))
        );
    }

    #[test]
    fn rejects_what_it_cannot_map() {
        for (json, needle) in [
            (json!("42"), "JSON object"),
            (json!({"Identifier": 42}), "'Identifier' must be a string"),
            (json!({"Email": ["a"]}), "'Email' must be a string"),
            (
                json!({"Flag": true}),
                "'Flag' has an unsupported value true",
            ),
            (json!({"L": ["a", 1]}), "'L' has an unsupported value"),
            (
                json!({"D": {"datetime": "yesterday"}}),
                "'D' is not an RFC 3339",
            ),
            (
                json!({"D": {"datetime": 5}}),
                "'D' has an unsupported value",
            ),
            (
                json!({"N": {"number": "lots"}}),
                "'N' has an unsupported value",
            ),
            (
                json!({"O": {"number": "NaN", "x": 1}}),
                "'O' has an unsupported value",
            ),
            (json!({"O": {}}), "'O' has an unsupported value"),
        ] {
            let error = user_from_json(&json).unwrap_err();
            assert!(error.contains(needle), "{json}: {error}");
        }
    }
}
