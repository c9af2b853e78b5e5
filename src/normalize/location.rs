//! Locations: free text ("New York, NY 10001", "Remote (US)", "Virginia, United States",
//! "Stockholm", "AE") into city / state / country and the work arrangement it states.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

const LOCATIONS_YAML: &str = include_str!("../../taxonomies/locations.yaml");

#[derive(Debug, Deserialize)]
struct Taxonomy {
    countries: Vec<CountryEntry>,
    us_states: HashMap<String, String>,
    city_aliases: HashMap<String, (String, String, String)>,
}

#[derive(Debug, Deserialize)]
struct CountryEntry {
    code: String,
    name: String,
    aliases: Vec<String>,
}

/// Lookup tables keyed by lower-case spelling.
struct Gazetteer {
    countries: HashMap<String, String>,
    country_codes: HashMap<String, String>,
    states: HashMap<String, String>,
    state_codes: HashMap<String, String>,
    cities: HashMap<String, (String, String, String)>,
}

static GAZETTEER: LazyLock<Gazetteer> = LazyLock::new(|| {
    let taxonomy: Taxonomy = serde_norway::from_str(LOCATIONS_YAML).expect("taxonomies/locations.yaml is valid (checked by a unit test)");
    let mut countries = HashMap::new();
    let mut country_codes = HashMap::new();
    for c in taxonomy.countries {
        country_codes.insert(c.code.to_ascii_lowercase(), c.code.clone());
        countries.insert(c.name.to_lowercase(), c.code.clone());
        for alias in c.aliases {
            countries.insert(alias.to_lowercase(), c.code.clone());
        }
    }
    let mut states = HashMap::new();
    let mut state_codes = HashMap::new();
    for (code, name) in taxonomy.us_states {
        states.insert(name.to_lowercase(), code.clone());
        state_codes.insert(code.to_ascii_lowercase(), code);
    }
    let cities = taxonomy.city_aliases.into_iter().map(|(k, v)| (k.to_lowercase(), v)).collect();
    Gazetteer {
        countries,
        country_codes,
        states,
        state_codes,
        cities,
    }
});

static PARENTHESES: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\([^)]*\)|\[[^\]]*\]").expect("valid regex"));
static WORK_MODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(fully remote|remote|hybrid|on-?site|in[- ]office|work from home|wfh|anywhere)(?-u:\b)").expect("valid regex")
});
static ZIP: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\s+\d{5}(?:-\d{4})?$").expect("valid regex"));

/// A normalised location.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub city: Option<String>,
    pub state: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// `remote`, `hybrid` or `on-site`, when the text says.
    pub remote_type: Option<&'static str>,
}

/// The work arrangement a phrase states: `remote`, `hybrid` or `on-site`. Hybrid wins over
/// remote ("Remote/hybrid" is not fully remote).
pub fn work_mode(text: &str) -> Option<&'static str> {
    let mut found = None;
    for m in WORK_MODE.find_iter(text) {
        let mode = match m.as_str().to_ascii_lowercase().as_str() {
            "hybrid" => "hybrid",
            w if w.starts_with("on") || w.starts_with("in") => "on-site",
            _ => "remote",
        };
        found = match (found, mode) {
            (Some("hybrid"), _) | (_, "hybrid") => Some("hybrid"),
            (Some(prev), _) => Some(prev),
            (None, mode) => Some(mode),
        };
    }
    found
}

/// Parses a location. Parts are read from the end: country, then US state, then city. A lone
/// two-letter code is read as a country (ISO), a code after a city as a US state.
pub fn parse_location(raw: &str) -> Location {
    let g = &*GAZETTEER;
    let remote_type = work_mode(raw);
    let without_notes = PARENTHESES.replace_all(raw, " ");
    let without_mode = WORK_MODE.replace_all(&without_notes, " ");
    let mut parts: Vec<String> = without_mode
        .split([',', '|', ';', '/'])
        .map(|p| {
            ZIP.replace(p.trim().trim_matches(|c: char| c == '-' || c == '–' || c.is_whitespace()), "")
                .trim()
                .to_string()
        })
        .filter(|p| !p.is_empty())
        .collect();
    let mut location = Location {
        remote_type,
        ..Location::default()
    };
    let single = parts.len() == 1;

    if let Some(last) = parts.last() {
        let key = last.to_lowercase();
        let code = g.countries.get(&key).or_else(|| {
            if single || !g.state_codes.contains_key(&key) {
                g.country_codes.get(&key)
            } else {
                None
            }
        });
        if let Some(code) = code
            && !(single && g.states.contains_key(&key))
        {
            location.country = Some(code.clone());
            parts.pop();
        }
    }
    // "UK, United Kingdom" (a dataset's place column that holds only the country, with the
    // country appended by its mapping) names no city.
    if let (Some(country), [only]) = (&location.country, parts.as_slice()) {
        let key = only.to_lowercase();
        if g.countries.get(&key).or_else(|| g.country_codes.get(&key)) == Some(country) {
            parts.clear();
        }
    }
    if let Some(last) = parts.last() {
        let key = last.to_lowercase();
        if let Some(code) = g.state_codes.get(&key).or_else(|| g.states.get(&key)) {
            location.state = Some(code.clone());
            location.country.get_or_insert_with(|| "US".to_string());
            parts.pop();
        }
    }
    if let Some(first) = parts.first() {
        if let Some((city, state, country)) = g.cities.get(&first.to_lowercase()) {
            location.city = Some(city.clone());
            if !state.is_empty() {
                location.state.get_or_insert_with(|| state.clone());
            }
            location.country.get_or_insert_with(|| country.clone());
        } else {
            location.city = Some(first.clone());
        }
    }
    location
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(city: Option<&str>, state: Option<&str>, country: Option<&str>, remote: Option<&'static str>) -> Location {
        Location {
            city: city.map(Into::into),
            state: state.map(Into::into),
            country: country.map(Into::into),
            remote_type: remote,
        }
    }

    #[test]
    fn common_layouts() {
        assert_eq!(
            parse_location("New York, NY 10001"),
            loc(Some("New York"), Some("NY"), Some("US"), None)
        );
        assert_eq!(
            parse_location("San Francisco, CA, US"),
            loc(Some("San Francisco"), Some("CA"), Some("US"), None)
        );
        assert_eq!(parse_location("Virginia, United States"), loc(None, Some("VA"), Some("US"), None));
        assert_eq!(parse_location("Remote (North America)"), loc(None, None, None, Some("remote")));
        assert_eq!(
            parse_location("SF, Remote"),
            loc(Some("San Francisco"), Some("CA"), Some("US"), Some("remote"))
        );
        assert_eq!(
            parse_location("Stockholm | On-site (Hybrid)"),
            loc(Some("Stockholm"), None, Some("SE"), Some("hybrid"))
        );
        assert_eq!(parse_location("AE"), loc(None, None, Some("AE"), None));
        assert_eq!(parse_location("Texas"), loc(None, Some("TX"), Some("US"), None));
        assert_eq!(parse_location("London, UK"), loc(Some("London"), None, Some("GB"), None));
        assert_eq!(parse_location("UK, United Kingdom"), loc(None, None, Some("GB"), None));
        assert_eq!(
            parse_location("Dorking, United Kingdom"),
            loc(Some("Dorking"), None, Some("GB"), None)
        );
        assert_eq!(parse_location(""), Location::default());
    }
}
