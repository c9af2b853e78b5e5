//! Comma-separated lists as people type them, from the command line (`--skills "python, sql,"`,
//! already split by clap) and from forms and query strings (`?skills=python,sql`).

/// The items of `values`, each split on commas, trimmed, empty ones (a trailing or doubled
/// comma) dropped: `["python, sql,"]` is `["python", "sql"]`.
pub fn comma_items<S: AsRef<str>>(values: impl IntoIterator<Item = S>) -> Vec<String> {
    let mut items = Vec::new();
    for value in values {
        items.extend(
            value
                .as_ref()
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(String::from),
        );
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_and_empty_items_are_typing() {
        assert_eq!(comma_items(["python, sql,", " ,", "dbt"]), ["python", "sql", "dbt"]);
        assert_eq!(comma_items(Some("a,,b")), ["a", "b"]);
        assert!(comma_items(None::<String>).is_empty());
    }
}
