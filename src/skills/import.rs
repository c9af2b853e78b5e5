//! `rats skills import`: what the public taxonomies (O*NET technology skills, devicon, GitHub
//! linguist, ESCO transversal skills) would add to ours or contradict, and the merge.
//!
//! Matching is by spelling: a source entry is known when its name or one of its alternative
//! names is a spelling of one of our skills. It contradicts ours when its spellings point at
//! two different skills, or when the source states a category that differs from ours. New
//! entries merge as plain YAML appended to the taxonomy file, marked with `source`; one-word
//! names merge as ambiguous (matched only as written and next to another technical skill),
//! because an unreviewed single word is too often an ordinary one.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::taxonomy::{Skill, Taxonomy, TaxonomyError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// O*NET `Technology Skills.txt` (tab-separated).
    Onet,
    /// devicon's `devicon.json`.
    Devicon,
    /// GitHub linguist's `languages.yml` (programming languages only).
    Linguist,
    /// ESCO `skills_en_transversal.csv`.
    Esco,
}

impl SourceKind {
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Onet => "onet",
            SourceKind::Devicon => "devicon",
            SourceKind::Linguist => "linguist",
            SourceKind::Esco => "esco",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("the merged taxonomy would not be valid, nothing written: {0}")]
    Invalid(#[from] TaxonomyError),
}

/// One entry of a source, in our terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub name: String,
    pub aliases: Vec<String>,
    /// Our category for it, when the source says something we can map.
    pub category: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Contradiction {
    pub name: String,
    pub ours: String,
    pub theirs: String,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub source: SourceKind,
    pub file: String,
    pub read: usize,
    pub known: usize,
    pub new: Vec<Candidate>,
    pub contradictions: Vec<Contradiction>,
}

pub fn read(kind: SourceKind, path: &Path, hot_only: bool) -> Result<Vec<Candidate>, ImportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ImportError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let format = |message: String| ImportError::Format {
        path: path.to_path_buf(),
        message,
    };
    match kind {
        SourceKind::Onet => read_onet(&text, hot_only).map_err(format),
        SourceKind::Devicon => read_devicon(&text).map_err(format),
        SourceKind::Linguist => read_linguist(&text).map_err(format),
        SourceKind::Esco => read_esco(&text).map_err(format),
    }
}

/// O*NET lists each tool once per occupation; vendor prefixes and a trailing "software" are
/// dropped as extra spellings ("Microsoft Excel" → "Excel" is how postings write it).
fn read_onet(text: &str, hot_only: bool) -> Result<Vec<Candidate>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .quoting(false)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| e.to_string())?.clone();
    let column = |name: &str| headers.iter().position(|h| h == name).ok_or_else(|| format!("no {name:?} column"));
    let (example, commodity, hot, demand) = (
        column("Example")?,
        column("Commodity Title")?,
        column("Hot Technology")?,
        column("In Demand")?,
    );
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("line {}: {e}", i + 2))?;
        let name = record.get(example).unwrap_or_default().trim().to_string();
        let flagged = record.get(hot) == Some("Y") || record.get(demand) == Some("Y");
        if name.is_empty() || (hot_only && !flagged) || !seen.insert(name.clone()) {
            continue;
        }
        let mut aliases = Vec::new();
        let stripped = strip_vendor(&name);
        if stripped != name {
            aliases.push(stripped);
        }
        out.push(Candidate {
            category: Some(onet_category(record.get(commodity).unwrap_or_default()).to_string()),
            name,
            aliases,
        });
    }
    Ok(out)
}

const VENDORS: &[&str] = &[
    "Microsoft ",
    "Oracle ",
    "Amazon ",
    "Google ",
    "Apache ",
    "IBM ",
    "Adobe ",
    "Autodesk ",
    "SAP ",
    "The MathWorks ",
    "Atlassian ",
    "Intuit ",
    "Apple ",
    "Salesforce ",
    "Dassault Systemes ",
    "ESRI ",
    "Bentley ",
    "Hewlett Packard ",
    "HP ",
    "Cisco ",
    "Red Hat ",
    "VMware ",
    "Epic ",
    "Teradata ",
    "Tableau ",
    "SAS ",
    "Siemens ",
    "Trimble ",
    "Sage ",
    "Infor ",
    "Facebook ",
    "Meta ",
    "Smartsheet ",
];

fn strip_vendor(name: &str) -> String {
    let mut s = name.trim();
    for vendor in VENDORS {
        if let Some(rest) = s.strip_prefix(vendor) {
            s = rest;
            break;
        }
    }
    let s = s.strip_suffix(" software").unwrap_or(s);
    s.to_string()
}

fn onet_category(commodity: &str) -> &'static str {
    let c = commodity.to_lowercase();
    if c.contains("data base") || c.contains("database") {
        "database"
    } else if c.contains("development environment")
        || c.contains("object or component oriented")
        || c.contains("program testing")
        || c.contains("web platform")
    {
        "framework"
    } else if c.contains("operating system")
        || c.contains("network")
        || c.contains("configuration management")
        || c.contains("transaction server")
    {
        "devops"
    } else if c.contains("analytical") || c.contains("business intelligence") || c.contains("spreadsheet") {
        "analytics_tool"
    } else if c.contains("graphics") || c.contains("photo") || c.contains("video") || c.contains("desktop publishing") {
        "design"
    } else if c.contains("security") || c.contains("virus") {
        "security"
    } else {
        "enterprise_software"
    }
}

#[derive(Deserialize)]
struct DeviconEntry {
    name: String,
    #[serde(default)]
    altnames: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
}

fn read_devicon(text: &str) -> Result<Vec<Candidate>, String> {
    let entries: Vec<DeviconEntry> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    Ok(entries
        .into_iter()
        .map(|e| {
            let category = e.tags.iter().find_map(|t| match t.as_str() {
                "language" => Some("language"),
                "framework" => Some("framework"),
                "database" => Some("database"),
                "cloud" => Some("cloud"),
                _ => None,
            });
            Candidate {
                name: e.name,
                aliases: e.altnames,
                category: category.map(str::to_string),
            }
        })
        .collect())
}

#[derive(Deserialize)]
struct LinguistEntry {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    aliases: Vec<String>,
}

fn read_linguist(text: &str) -> Result<Vec<Candidate>, String> {
    let languages: BTreeMap<String, LinguistEntry> = serde_norway::from_str(text).map_err(|e| e.to_string())?;
    Ok(languages
        .into_iter()
        .filter(|(_, l)| l.kind == "programming")
        .map(|(name, l)| Candidate {
            aliases: l.aliases.into_iter().filter(|a| !a.eq_ignore_ascii_case(&name)).collect(),
            name,
            category: Some("language".to_string()),
        })
        .collect())
}

fn read_esco(text: &str) -> Result<Vec<Candidate>, String> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| e.to_string())?.clone();
    let column = |name: &str| headers.iter().position(|h| h == name).ok_or_else(|| format!("no {name:?} column"));
    let (preferred, alternatives) = (column("preferredLabel")?, column("altLabels")?);
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("record {}: {e}", i + 1))?;
        let name = record.get(preferred).unwrap_or_default().trim().to_string();
        if name.is_empty() {
            continue;
        }
        let aliases = record
            .get(alternatives)
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|a| !a.is_empty() && *a != name)
            .map(str::to_string)
            .collect();
        out.push(Candidate {
            name,
            aliases,
            category: Some("soft_skill".to_string()),
        });
    }
    Ok(out)
}

/// Every spelling of ours, lower-cased, to the skill id.
fn spelling_index(taxonomy: &Taxonomy) -> HashMap<String, &str> {
    let mut index = HashMap::new();
    for skill in &taxonomy.skills {
        for spelling in skill.spellings().chain(std::iter::once(skill.name.as_str())) {
            let key = spelling.to_lowercase();
            for variant in super::gazetteer::separator_variants(&key) {
                index.entry(variant).or_insert(skill.id.as_str());
            }
            index.insert(key, skill.id.as_str());
        }
    }
    index
}

pub fn compare(kind: SourceKind, file: &Path, taxonomy: &Taxonomy, candidates: Vec<Candidate>) -> ImportReport {
    let index = spelling_index(taxonomy);
    let mut report = ImportReport {
        source: kind,
        file: file.display().to_string(),
        read: candidates.len(),
        known: 0,
        new: Vec::new(),
        contradictions: Vec::new(),
    };
    for candidate in candidates {
        let matches: Vec<(&String, &str)> = std::iter::once(&candidate.name)
            .chain(&candidate.aliases)
            .filter_map(|s| index.get(&s.to_lowercase()).map(|id| (s, *id)))
            .collect();
        let Some(&(_, first)) = matches.first() else {
            report.new.push(candidate);
            continue;
        };
        report.known += 1;
        if let Some((spelling, other)) = matches.iter().find(|(_, id)| *id != first) {
            report.contradictions.push(Contradiction {
                name: candidate.name.clone(),
                ours: format!("{first} and {other}"),
                theirs: candidate.name.clone(),
                detail: format!(
                    "{spelling:?} is one of our spellings of {other}, but the source lists it for {}",
                    candidate.name
                ),
            });
        }
        if let (Some(theirs), Some(ours)) = (&candidate.category, taxonomy.get(first).map(|s| &s.category))
            && theirs != ours
            && kind != SourceKind::Onet
        {
            report.contradictions.push(Contradiction {
                name: candidate.name.clone(),
                ours: format!("{first}: {ours}"),
                theirs: theirs.clone(),
                detail: format!("the source puts {} under {theirs}; we file {first} under {ours}", candidate.name),
            });
        }
    }
    report
}

/// The taxonomy text with the report's new entries appended, checked by loading it.
pub fn merged_text(original: &str, origin: &str, report: &ImportReport) -> Result<(String, usize), ImportError> {
    let taxonomy = Taxonomy::parse(original, origin)?;
    let mut taken: HashSet<String> = taxonomy.skills.iter().map(|s| s.id.clone()).collect();
    let mut spellings: HashSet<String> = spelling_index(&taxonomy).into_keys().collect();
    let mut added: Vec<Skill> = Vec::new();
    for candidate in &report.new {
        let Some(category) = candidate.category.clone().filter(|c| taxonomy.categories.contains_key(c)) else {
            continue;
        };
        let aliases: Vec<String> = candidate
            .aliases
            .iter()
            .filter(|a| !a.eq_ignore_ascii_case(&candidate.name) && !spellings.contains(&a.to_lowercase()))
            .cloned()
            .collect();
        if spellings.contains(&candidate.name.to_lowercase()) {
            continue;
        }
        let mut id = slug(&candidate.name);
        if id.is_empty() {
            continue;
        }
        if taken.contains(&id) {
            id = format!("{id}-{}", report.source.name());
        }
        if !taken.insert(id.clone()) {
            continue;
        }
        let one_word = !candidate.name.contains(' ');
        for spelling in std::iter::once(&candidate.name).chain(&aliases) {
            spellings.insert(spelling.to_lowercase());
        }
        added.push(Skill {
            id,
            name: candidate.name.clone(),
            category,
            aliases: if one_word { Vec::new() } else { aliases },
            exact_case: Vec::new(),
            ambiguous: if one_word { vec![candidate.name.clone()] } else { Vec::new() },
            cues: Vec::new(),
            not_before: Vec::new(),
            not_after: Vec::new(),
            parents: Vec::new(),
            source: Some(report.source.name().to_string()),
        });
    }
    let mut text = original.trim_end().to_string();
    if added.is_empty() {
        text.push('\n');
    } else {
        let _ = write!(text, "\n\n  # --- merged from {} ({}) ---\n", report.source.name(), report.file);
        for skill in &added {
            let yaml = serde_norway::to_string(&[skill]).map_err(|e| ImportError::Format {
                path: PathBuf::from(origin),
                message: e.to_string(),
            })?;
            for line in yaml.lines() {
                text.push_str("  ");
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    Taxonomy::parse(&text, origin)?;
    Ok((text, added.len()))
}

/// `C++` → `cpp`, `.NET` → `dotnet`, `Node.js` → `node-js`: the id scheme of the hand-written
/// entries.
pub fn slug(name: &str) -> String {
    let mut s = name
        .to_lowercase()
        .replace("c++", "cpp")
        .replace("c#", "csharp")
        .replace("f#", "fsharp");
    if let Some(rest) = s.strip_prefix('.') {
        s = format!("dot{rest}");
    }
    let s = s.replace('+', "plus").replace('#', "sharp").replace('&', "and");
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_hand_written_scheme() {
        assert_eq!(slug("C++"), "cpp");
        assert_eq!(slug(".NET MAUI"), "dotnet-maui");
        assert_eq!(slug("Node.js"), "node-js");
        assert_eq!(slug("A/B testing"), "a-b-testing");
    }

    #[test]
    fn known_new_and_contradicting_entries_are_told_apart_and_new_ones_merge() {
        let taxonomy = Taxonomy::built_in().expect("valid");
        let candidates = vec![
            Candidate {
                name: "react".into(),
                aliases: vec!["reactjs".into()],
                category: Some("framework".into()),
            },
            Candidate {
                name: "Zork Script".into(),
                aliases: vec!["zorkscript".into()],
                category: Some("language".into()),
            },
            Candidate {
                name: "Python".into(),
                aliases: vec!["Django".into()],
                category: Some("language".into()),
            },
            Candidate {
                name: "PostgreSQL".into(),
                aliases: vec![],
                category: Some("language".into()),
            },
        ];
        let report = compare(SourceKind::Devicon, Path::new("d.json"), &taxonomy, candidates);
        assert_eq!((report.read, report.known, report.new.len()), (4, 3, 1));
        let details: Vec<&str> = report.contradictions.iter().map(|c| c.detail.as_str()).collect();
        assert_eq!(details.len(), 2, "{details:?}");
        assert!(details[0].contains("\"Django\" is one of our spellings of django"), "{details:?}");
        assert!(details[1].contains("we file postgresql under database"), "{details:?}");
        let (text, added) = merged_text(BUILT_IN_YAML_FOR_TEST, "t", &report).expect("merges");
        assert_eq!(added, 1);
        let merged = Taxonomy::parse(&text, "t").expect("valid");
        let zork = merged.get("zork-script").expect("added");
        assert_eq!(zork.source.as_deref(), Some("devicon"));
        assert_eq!(zork.aliases, ["zorkscript"]);
    }

    const BUILT_IN_YAML_FOR_TEST: &str = crate::skills::taxonomy::BUILT_IN_YAML;

    #[test]
    fn onet_rows_become_candidates_with_vendor_free_spellings() {
        let text = "O*NET-SOC Code\tExample\tCommodity Code\tCommodity Title\tHot Technology\tIn Demand\n\
                    1\tMicrosoft Excel\t1\tSpreadsheet software\tY\tN\n\
                    2\tMicrosoft Excel\t1\tSpreadsheet software\tY\tN\n\
                    3\tObscure Tool\t1\tWhatever software\tN\tN\n";
        let all = read_onet(text, false).expect("reads");
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].aliases, ["Excel"]);
        assert_eq!(all[0].category.as_deref(), Some("analytics_tool"));
        assert_eq!(read_onet(text, true).expect("reads").len(), 1);
    }
}
