//! A page's state is its query string: the filters, sort, page size and cursor. A GET form sends
//! every field, filled or not, so the empty ones are dropped first — the address then reads as
//! the API's query for the same view, and links built from it (the next page, a download)
//! carry the state with them.

use std::collections::BTreeMap;

use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};

/// `query` without empty fields, in the order given.
pub fn non_empty(query: Option<&str>) -> String {
    let pairs = form_urlencoded::parse(query.unwrap_or_default().as_bytes()).filter(|(_, value)| !value.trim().is_empty());
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// The page's state from the request's query string — or, when that had empty fields (a form
/// sent as it was), a redirect to the same view at its tidy address, which is the one people
/// then see, bookmark and share.
pub fn tidy(path: &str, uri: &Uri) -> Result<String, Response> {
    let query = non_empty(uri.query());
    if uri.query().is_some_and(|raw| raw != query) {
        return Err(Redirect::to(&address(path, &query)).into_response());
    }
    Ok(query)
}

/// `query` with `name` set to `value` (or removed, for `None`), for links that change one part
/// of the state and keep the rest.
pub fn with(query: &str, name: &str, value: Option<&str>) -> String {
    let kept = form_urlencoded::parse(query.as_bytes()).filter(|(key, _)| key != name);
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    serializer.extend_pairs(kept);
    if let Some(value) = value {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

/// The fields by name (the last of repeated ones), to fill a form in again as it was sent.
pub fn fields(query: &str) -> BTreeMap<String, String> {
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

/// `path` with `query`, or `path` alone when there is none.
pub fn address(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_fields_are_dropped_and_the_rest_keep_their_order() {
        assert_eq!(
            non_empty(Some("title=rust+dev&company=&remote=+&sort=salary")),
            "title=rust+dev&sort=salary"
        );
        assert_eq!(non_empty(None), "");
    }

    #[test]
    fn a_query_with_empty_fields_is_sent_to_its_tidy_address_once() {
        let sent: Uri = "/jobs?q=&title=data+engineer&remote=".parse().expect("a URI");
        let redirect = tidy("/jobs", &sent).expect_err("redirected");
        assert_eq!(redirect.headers()["location"], "/jobs?title=data+engineer");
        let tidy_uri: Uri = "/jobs?title=data+engineer".parse().expect("a URI");
        assert_eq!(tidy("/jobs", &tidy_uri).expect("kept"), "title=data+engineer");
        assert_eq!(tidy("/jobs", &"/jobs".parse().expect("a URI")).expect("kept"), "");
    }

    #[test]
    fn one_field_changes_and_the_others_stay() {
        assert_eq!(with("title=rust&cursor=ab", "cursor", Some("cd")), "title=rust&cursor=cd");
        assert_eq!(with("title=rust&cursor=ab", "cursor", None), "title=rust");
        assert_eq!(fields("title=a%26b&title=c")["title"], "c");
        assert_eq!(address("/jobs", ""), "/jobs");
        assert_eq!(address("/jobs", "q=x"), "/jobs?q=x");
    }
}
