//! dbt's node selection syntax for `--select` and `--exclude`: space-separated selectors are
//! a union, comma-joined ones an intersection; each selector is a model name (`*` matches
//! any run of characters), `tag:T` or `path:P` (a file or folder, relative to the project),
//! with `+` before for the node's ancestors and `+` after for its descendants (`2+` limits the
//! depth).

use std::collections::BTreeSet;

use super::TransformError;
use super::dag::Dag;

/// The names `select` picks, minus those `exclude` picks; everything when `select` is empty.
pub fn select(dag: &Dag, select: &[String], exclude: &[String]) -> Result<BTreeSet<String>, TransformError> {
    let mut chosen: BTreeSet<String> = if select.is_empty() {
        dag.nodes.iter().map(|n| n.name().to_string()).collect()
    } else {
        union(dag, select)?
    };
    for name in union(dag, exclude)? {
        chosen.remove(&name);
    }
    Ok(chosen)
}

fn union(dag: &Dag, expressions: &[String]) -> Result<BTreeSet<String>, TransformError> {
    let mut all = BTreeSet::new();
    for expression in expressions.iter().flat_map(|e| e.split_whitespace()) {
        let mut parts = expression.split(',');
        let mut result = one(dag, parts.next().unwrap_or_default())?;
        for part in parts {
            let other = one(dag, part)?;
            result.retain(|n| other.contains(n));
        }
        all.extend(result);
    }
    Ok(all)
}

/// One selector with its graph operators.
fn one(dag: &Dag, selector: &str) -> Result<BTreeSet<String>, TransformError> {
    let (up, rest) = split_prefix(selector);
    let (core, down) = split_suffix(rest);
    let invalid = |message: &str| TransformError::Selector {
        selector: selector.to_string(),
        message: message.to_string(),
    };
    if core.is_empty() {
        return Err(invalid("names no model"));
    }
    let matched: BTreeSet<String> = if let Some(tag) = core.strip_prefix("tag:") {
        dag.nodes
            .iter()
            .filter(|n| n.tags.contains(tag))
            .map(|n| n.name().to_string())
            .collect()
    } else if let Some(path) = core.strip_prefix("path:") {
        let path = path.trim_end_matches('/');
        dag.nodes
            .iter()
            .filter(|n| n.file.path == path || n.file.path.starts_with(&format!("{path}/")))
            .map(|n| n.name().to_string())
            .collect()
    } else if core.contains(':') {
        return Err(invalid("only name, tag: and path: selectors are supported"));
    } else {
        dag.nodes
            .iter()
            .filter(|n| glob_match(core, n.name()))
            .map(|n| n.name().to_string())
            .collect()
    };
    if matched.is_empty() && !core.starts_with("tag:") {
        return Err(invalid("matches no model"));
    }
    let mut result = matched.clone();
    if let Some(depth) = up {
        for name in &matched {
            walk(name, depth, &mut result, |n| {
                dag.node(n)
                    .map(|node| node.depends_on.iter().cloned().collect())
                    .unwrap_or_default()
            });
        }
    }
    if let Some(depth) = down {
        for name in &matched {
            walk(name, depth, &mut result, |n| dag.children(n).map(str::to_string).collect());
        }
    }
    Ok(result)
}

/// `+x` / `2+x`: the depth of ancestors wanted (`usize::MAX` for all).
fn split_prefix(selector: &str) -> (Option<usize>, &str) {
    let digits = selector.chars().take_while(char::is_ascii_digit).count();
    if selector[digits..].starts_with('+') {
        let depth = selector[..digits].parse().unwrap_or(usize::MAX);
        (Some(depth), &selector[digits + 1..])
    } else {
        (None, selector)
    }
}

/// `x+` / `x+2`: the depth of descendants wanted.
fn split_suffix(selector: &str) -> (&str, Option<usize>) {
    let digits = selector.chars().rev().take_while(char::is_ascii_digit).count();
    let head = &selector[..selector.len() - digits];
    match head.strip_suffix('+') {
        Some(core) => (core, Some(selector[head.len()..].parse().unwrap_or(usize::MAX))),
        None => (selector, None),
    }
}

fn walk(start: &str, depth: usize, into: &mut BTreeSet<String>, next: impl Fn(&str) -> Vec<String>) {
    let mut frontier = vec![start.to_string()];
    let mut level = 0;
    while !frontier.is_empty() && level < depth {
        let mut following = Vec::new();
        for name in frontier {
            for n in next(&name) {
                if into.insert(n.clone()) || !following.contains(&n) {
                    following.push(n);
                }
            }
        }
        frontier = following;
        level += 1;
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else { return false };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else if let Some(at) = rest.find(part) {
            rest = &rest[at + part.len()..];
        } else {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_operators_parse_with_optional_depths() {
        assert_eq!(split_prefix("+a"), (Some(usize::MAX), "a"));
        assert_eq!(split_prefix("2+a"), (Some(2), "a"));
        assert_eq!(split_prefix("a"), (None, "a"));
        assert_eq!(split_suffix("a+"), ("a", Some(usize::MAX)));
        assert_eq!(split_suffix("a+1"), ("a", Some(1)));
        assert_eq!(split_suffix("stg_2"), ("stg_2", None));
    }

    #[test]
    fn globs_match_runs_of_characters() {
        assert!(glob_match("stg_*", "stg_postings"));
        assert!(glob_match("*_company", "dim_company"));
        assert!(glob_match("agg_*_by_*", "agg_salary_by_title_location"));
        assert!(!glob_match("stg_*", "fct_postings"));
    }
}
