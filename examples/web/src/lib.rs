//! A small axum service that evaluates ConfigCat feature flags per request.
//!
//! One [`Client`] is created at startup and shared by every request (it is
//! cheap to clone: all clones are the same client). Each request names its
//! user in the query string (`?id=...&email=...&country=...`) or in headers
//! (`X-User-Id`, `X-User-Email`, `X-User-Country`; the query wins), and the
//! flags are evaluated for that user:
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /` | an HTML page whose content the flags decide |
//! | `GET /api/flags` | `{"user": ..., "flags": {"<key>": <value>, ...}}` |
//! | `GET /api/flags/{key}` | the evaluation details of one flag (404 if unknown) |
//! | `GET /health` | `{"cache_state": "UpToDate"}` (the client's `CacheState`) |
//!
//! Reads never wait on the network: the client polls in the background and
//! the handlers read its current config snapshot, so calling the (blocking)
//! client API from async handlers is fine.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use configcat_std::{Client, OwnedValue, User};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The user fields a request may carry in its query string.
#[derive(Debug, Default, Deserialize)]
pub struct UserQuery {
    /// The user's identifier (`X-User-Id`).
    pub id: Option<String>,
    /// The user's e-mail address (`X-User-Email`).
    pub email: Option<String>,
    /// The user's country (`X-User-Country`).
    pub country: Option<String>,
}

/// The user a request stands for: query parameters first, then the
/// `X-User-*` headers. `None` when the request names no user at all.
#[must_use]
pub fn user_from_request(query: &UserQuery, headers: &HeaderMap) -> Option<User> {
    let field = |from_query: &Option<String>, header: &str| {
        from_query
            .clone()
            .or_else(|| {
                headers
                    .get(header)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned)
            })
            .filter(|value| !value.is_empty())
    };
    let id = field(&query.id, "x-user-id");
    let email = field(&query.email, "x-user-email");
    let country = field(&query.country, "x-user-country");
    if id.is_none() && email.is_none() && country.is_none() {
        return None;
    }
    let mut user = User::new(id.unwrap_or_default());
    if let Some(email) = email {
        user = user.with_email(email);
    }
    if let Some(country) = country {
        user = user.with_country(country);
    }
    Some(user)
}

/// The service's routes, evaluating with `client`.
pub fn router(client: Client) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/api/flags", get(all_flags))
        .route("/api/flags/{key}", get(one_flag))
        .route("/health", get(health))
        .with_state(client)
}

#[derive(Serialize)]
struct UserView {
    id: String,
    email: Option<String>,
    country: Option<String>,
}

impl UserView {
    fn of(user: Option<&User>) -> Option<Self> {
        user.map(|user| Self {
            id: user.identifier().to_owned(),
            email: user.email().map(str::to_owned),
            country: user.country().map(str::to_owned),
        })
    }
}

fn json_value(value: &OwnedValue) -> serde_json::Value {
    match value {
        OwnedValue::Bool(flag) => json!(flag),
        OwnedValue::Int(number) => json!(number),
        OwnedValue::Float(number) => json!(number),
        OwnedValue::Text(text) => json!(text.as_ref()),
    }
}

async fn all_flags(
    State(client): State<Client>,
    Query(query): Query<UserQuery>,
    headers: HeaderMap,
) -> Json<serde_json::Value> {
    let user = user_from_request(&query, &headers);
    let flags: BTreeMap<String, serde_json::Value> = client
        .get_all_values(user.as_ref())
        .iter()
        .map(|(key, value)| (key.clone(), json_value(value)))
        .collect();
    Json(json!({ "user": UserView::of(user.as_ref()), "flags": flags }))
}

async fn one_flag(
    State(client): State<Client>,
    Path(key): Path<String>,
    Query(query): Query<UserQuery>,
    headers: HeaderMap,
) -> Response {
    let user = user_from_request(&query, &headers);
    let Some(details) = client
        .get_all_value_details(user.as_ref())
        .into_iter()
        .find(|details| details.key == key)
    else {
        let body = json!({ "error": format!("no flag or setting '{key}'") });
        return (StatusCode::NOT_FOUND, Json(body)).into_response();
    };
    Json(json!({
        "key": details.key,
        "value": details.value.as_ref().map(json_value),
        "variation_id": details.variation_id,
        "matched_targeting_rule_index": details.matched_targeting_rule_index,
        "matched_percentage_option_index": details.matched_percentage_option_index,
        "error": details.error.map(|error| error.to_string()),
        "user": UserView::of(user.as_ref()),
    }))
    .into_response()
}

async fn health(State(client): State<Client>) -> Json<serde_json::Value> {
    let state = client.wait_for_ready(Duration::ZERO);
    Json(json!({ "cache_state": format!("{state:?}") }))
}

async fn page(
    State(client): State<Client>,
    Query(query): Query<UserQuery>,
    headers: HeaderMap,
) -> Html<String> {
    let user = user_from_request(&query, &headers);
    let user = user.as_ref();
    let banner = client.get_value("bannerText", "Welcome".to_owned(), user);
    let dashboard = client.get_value("newDashboard", false, user);
    let discount = client.get_value("discountPercent", 0_i64, user);
    let upload = client.get_value("maxUploadMb", 10.0, user);
    let name = user.map_or("guest", User::identifier);
    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>ConfigCat web sample</title></head><body>\n\
         <h1>{}</h1>\n<p>Hello, {}!</p>\n",
        escape(&banner),
        escape(name)
    );
    if dashboard {
        html.push_str("<p id=\"dashboard\">You are using the <b>new dashboard</b>.</p>\n");
    } else {
        html.push_str("<p id=\"dashboard\">You are using the classic dashboard.</p>\n");
    }
    let _ = write!(
        html,
        "<p id=\"discount\">Your discount: {discount}%</p>\n<p>Uploads up to {upload} MB.</p>\n</body></html>\n"
    );
    Html(html)
}

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '&' => escaped.push_str("&amp;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_query_wins_over_headers() {
        let mut headers = HeaderMap::new();
        headers.insert("x-user-id", HeaderValue::from_static("from-header"));
        headers.insert("x-user-country", HeaderValue::from_static("Hungary"));
        let query = UserQuery {
            id: Some("from-query".to_owned()),
            ..UserQuery::default()
        };
        let user = user_from_request(&query, &headers).expect("a user");
        assert_eq!(user.identifier(), "from-query");
        assert_eq!(user.country(), Some("Hungary"));
        assert_eq!(user.email(), None);
        assert_eq!(
            user_from_request(&UserQuery::default(), &HeaderMap::new()),
            None
        );
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape("<a href='x'>&\""),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;"
        );
    }
}
