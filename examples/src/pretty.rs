//! The `--pretty` form of an answer: what a person reads in a terminal.

use core::fmt::Write as _;

use serde_json::Value as Json;

/// Renders one answer line of [`crate::evaluate_request_line`] (or
/// [`crate::evaluate_flag`]) for a person: the key and value, where the
/// value came from, and the evaluation log as the SDK writes it, one record
/// per line with its nested lines indented.
///
/// Rules and % options are numbered from 1, as ConfigCat's evaluation log
/// numbers % options, with the 0-based index of the details beside them.
///
/// ```
/// use configcat_core::Config;
/// use configcat_examples::{evaluate_request_line, pretty_answer};
///
/// let config = Config::parse(br#"{"f":{"enabled":{"t":0,"v":{"b":true},"i":"v1"}}}"#)?;
/// let answer = evaluate_request_line(&config, r#"{"key": "enabled", "default": false}"#, true);
/// assert_eq!(
///     pretty_answer(&answer),
///     "enabled = true\n  variation id: v1\n  served:       the setting's own value (no targeting rule or % option)\n\nevaluation log:\nINFO [5000] Evaluating 'enabled'\n  Returning 'true'.\n"
/// );
/// # Ok::<(), configcat_core::ParseError>(())
/// ```
#[must_use]
pub fn pretty_answer(answer_line: &str) -> String {
    let answer: Json = match serde_json::from_str(answer_line) {
        Ok(answer) => answer,
        // Not one of our answers: show it as it is rather than nothing.
        Err(_) => return format!("{answer_line}\n"),
    };
    let text = |name: &str| answer.get(name).and_then(Json::as_str);
    let index = |name: &str| {
        answer
            .get(name)
            .and_then(Json::as_u64)
            .and_then(|index| usize::try_from(index).ok())
    };
    let mut out = String::new();
    let key = text("key").unwrap_or("(no key)");
    let value = answer.get("value").unwrap_or(&Json::Null);
    let shown = if value.is_null() {
        "(no value)".to_owned()
    } else {
        value.to_string()
    };
    let _ = writeln!(out, "{key} = {shown}");
    if let Some(variation_id) = text("variation_id") {
        let _ = writeln!(out, "  variation id: {variation_id}");
    }
    if let Some(error) = text("error") {
        let _ = writeln!(out, "  served:       your default value, because: {error}");
    } else {
        let rule = index("matched_rule_index");
        let option = index("matched_percentage_option_index");
        let served = match (rule, option) {
            (None, None) => "the setting's own value (no targeting rule or % option)".to_owned(),
            (Some(rule), None) => ordinal("targeting rule", rule),
            (None, Some(option)) => ordinal("% option", option),
            (Some(rule), Some(option)) => format!(
                "{}, then {}",
                ordinal("targeting rule", rule),
                ordinal("% option", option)
            ),
        };
        let _ = writeln!(out, "  served:       {served}");
    }
    if let Some(log) = text("log") {
        out.push_str("\nevaluation log:\n");
        if log.is_empty() {
            out.push_str("(nothing logged)\n");
        }
        for line in log.lines() {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// "targeting rule 2 (index 1)".
fn ordinal(what: &str, index: usize) -> String {
    format!("{what} {} (index {index})", index.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use configcat_core::Config;

    use super::*;
    use crate::evaluate_request_line;

    const CONFIG: &[u8] = br#"{"p":{"s":"salt"},"f":{"greeting":{"t":1,"v":{"s":"hi"},"i":"v0",
        "r":[{"c":[{"u":{"a":"Country","c":0,"l":["Hungary"]}}],"s":{"v":{"s":"szia"},"i":"v1"}},
             {"c":[{"u":{"a":"Email","c":2,"l":["@example.com"]}}],
              "p":[{"p":0,"v":{"s":"never"},"i":"p0"},{"p":100,"v":{"s":"always"},"i":"p1"}]}]}}}"#;

    fn pretty(request: &str) -> String {
        let config = Config::parse(CONFIG).unwrap();
        pretty_answer(&evaluate_request_line(&config, request, true))
    }

    #[test]
    fn names_the_rule_and_option_from_one() {
        let text = pretty(
            r#"{"key": "greeting", "default": "", "user": {"Identifier": "1", "Email": "a@example.com"}}"#,
        );
        assert!(text.starts_with("greeting = \"always\"\n  variation id: p1\n"));
        assert!(
            text.contains(
                "  served:       targeting rule 2 (index 1), then % option 2 (index 1)\n"
            )
        );
        // The log keeps its own lines and indentation, unescaped.
        assert!(text.contains("\nevaluation log:\nWARNING [3003] Cannot evaluate condition"));
        assert!(text.contains("\nINFO [5000] Evaluating 'greeting' for User"));
        // The log numbers % options from 1 too.
        assert!(text.contains("selects % option 2 (100%), 'always'.\n"));
        assert!(
            text.contains("\n  Evaluating targeting rules and applying the first match if any:\n")
        );
    }

    #[test]
    fn says_why_the_default_was_served() {
        let text = pretty(r#"{"key": "greeting", "default": false}"#);
        assert!(
            text.starts_with("greeting = false\n  served:       your default value, because: ")
        );
        assert!(text.contains("ERROR [2001] "));
    }

    #[test]
    fn shows_a_line_it_cannot_read_as_it_is() {
        assert_eq!(pretty_answer("not json"), "not json\n");
    }
}
