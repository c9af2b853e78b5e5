//! The skill taxonomy (`taxonomies/skills.yaml`): canonical skills with their spellings,
//! categories and parent edges, loaded and checked once.
//!
//! Checks run at load so that a broken taxonomy fails loudly with the skill it is about instead
//! of silently extracting the wrong id: unique ids, known categories and parents, and no
//! spelling claimed by two skills.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The taxonomy compiled into the binary; `skills.taxonomy` points elsewhere.
pub const BUILT_IN_YAML: &str = include_str!("../../taxonomies/skills.yaml");

/// Categories whose skills are not technical (used by reports and the hand-check).
pub const NON_TECHNICAL_CATEGORIES: &[&str] = &["soft_skill", "business", "domain_knowledge"];

#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    #[error("cannot read taxonomy {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("taxonomy {origin} is not valid at {at}: {message}")]
    Parse { origin: String, at: String, message: String },
    #[error("taxonomy {origin}: skill id {id:?} is used twice")]
    DuplicateId { origin: String, id: String },
    #[error("taxonomy {origin}: skill {id:?} has category {category:?}, which is not listed under categories")]
    UnknownCategory { origin: String, id: String, category: String },
    #[error("taxonomy {origin}: skill {id:?} names parent {parent:?}, which is not a skill id")]
    UnknownParent { origin: String, id: String, parent: String },
    #[error("taxonomy {origin}: the spelling {spelling:?} belongs to both {first:?} and {second:?}")]
    SpellingClash {
        origin: String,
        spelling: String,
        first: String,
        second: String,
    },
    #[error("taxonomy {origin}: skill {id:?} has an empty {field}")]
    Empty { origin: String, id: String, field: &'static str },
}

/// One canonical skill, as written in the YAML.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Skill {
    pub id: String,
    pub name: String,
    pub category: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exact_case: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ambiguous: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cues: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_before: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_after: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<String>,
    /// Where a merged entry came from (`onet`, `devicon` …); absent for hand-written ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Skill {
    /// Whether the canonical name itself is one of the ambiguous spellings (in any case: an
    /// ambiguous `writing` makes the name `Writing` ambiguous too).
    pub fn name_is_ambiguous(&self) -> bool {
        self.ambiguous.iter().any(|a| a.eq_ignore_ascii_case(&self.name))
    }

    pub fn is_technical(&self) -> bool {
        !NON_TECHNICAL_CATEGORIES.contains(&self.category.as_str())
    }

    /// Every spelling matched without conditions: the name (unless ambiguous) and the aliases.
    pub fn plain_spellings(&self) -> impl Iterator<Item = &str> {
        let name = (!self.name_is_ambiguous()).then_some(self.name.as_str());
        name.into_iter().chain(self.aliases.iter().map(String::as_str))
    }

    /// Every spelling the taxonomy lists for the skill, under any rule.
    pub fn spellings(&self) -> impl Iterator<Item = &str> {
        self.plain_spellings()
            .chain(self.exact_case.iter().map(String::as_str))
            .chain(self.ambiguous.iter().map(String::as_str))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaxonomyFile {
    version: u32,
    categories: BTreeMap<String, String>,
    skills: Vec<Skill>,
}

/// A loaded, checked taxonomy.
#[derive(Debug)]
pub struct Taxonomy {
    pub version: u32,
    pub categories: BTreeMap<String, String>,
    pub skills: Vec<Skill>,
    by_id: HashMap<String, usize>,
}

impl Taxonomy {
    /// The taxonomy compiled into the binary.
    pub fn built_in() -> Result<Self, TaxonomyError> {
        Self::parse(BUILT_IN_YAML, "taxonomies/skills.yaml (built in)")
    }

    /// `path`, or the built-in taxonomy when `None`.
    pub fn load(path: Option<&Path>) -> Result<Self, TaxonomyError> {
        match path {
            None => Self::built_in(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| TaxonomyError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                Self::parse(&text, &path.display().to_string())
            }
        }
    }

    pub fn parse(text: &str, origin: &str) -> Result<Self, TaxonomyError> {
        let deserializer = serde_norway::Deserializer::from_str(text);
        let file: TaxonomyFile = serde_path_to_error::deserialize(deserializer).map_err(|e| TaxonomyError::Parse {
            origin: origin.to_string(),
            at: e.path().to_string(),
            message: e.inner().to_string(),
        })?;
        Self::from_parts(file.version, file.categories, file.skills, origin)
    }

    pub fn from_parts(version: u32, categories: BTreeMap<String, String>, skills: Vec<Skill>, origin: &str) -> Result<Self, TaxonomyError> {
        let origin = origin.to_string();
        let mut by_id = HashMap::with_capacity(skills.len());
        for (i, skill) in skills.iter().enumerate() {
            for (field, value) in [("id", &skill.id), ("name", &skill.name)] {
                if value.trim().is_empty() {
                    return Err(TaxonomyError::Empty {
                        origin,
                        id: skill.id.clone(),
                        field,
                    });
                }
            }
            if by_id.insert(skill.id.clone(), i).is_some() {
                return Err(TaxonomyError::DuplicateId {
                    origin,
                    id: skill.id.clone(),
                });
            }
            if !categories.contains_key(&skill.category) {
                return Err(TaxonomyError::UnknownCategory {
                    origin,
                    id: skill.id.clone(),
                    category: skill.category.clone(),
                });
            }
        }
        let mut owner: HashMap<String, &str> = HashMap::new();
        for skill in &skills {
            if let Some(parent) = skill.parents.iter().find(|p| !by_id.contains_key(p.as_str())) {
                return Err(TaxonomyError::UnknownParent {
                    origin,
                    id: skill.id.clone(),
                    parent: parent.clone(),
                });
            }
            for spelling in skill.spellings().map(str::to_lowercase) {
                if spelling.trim().is_empty() {
                    return Err(TaxonomyError::Empty {
                        origin,
                        id: skill.id.clone(),
                        field: "spelling",
                    });
                }
                match owner.get(&spelling) {
                    Some(first) if *first != skill.id => {
                        return Err(TaxonomyError::SpellingClash {
                            origin,
                            spelling,
                            first: (*first).to_string(),
                            second: skill.id.clone(),
                        });
                    }
                    _ => {
                        owner.insert(spelling, &skill.id);
                    }
                }
            }
        }
        Ok(Self {
            version,
            categories,
            skills,
            by_id,
        })
    }

    pub fn get(&self, id: &str) -> Option<&Skill> {
        self.by_id.get(id).map(|&i| &self.skills[i])
    }

    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_taxonomy_loads_and_covers_what_the_issue_asks() {
        let taxonomy = Taxonomy::built_in().expect("built-in taxonomy is valid");
        let technical = taxonomy.skills.iter().filter(|s| s.is_technical()).count();
        let soft = taxonomy.skills.len() - technical;
        assert!(technical >= 1500, "{technical} technical skills");
        assert!(soft >= 40, "{soft} soft skills");
        assert_eq!(taxonomy.get("pandas").map(|s| s.parents.clone()), Some(vec!["python".to_string()]));
        assert!(
            taxonomy
                .get("pyspark")
                .is_some_and(|s| s.parents.contains(&"apache-spark".to_string()))
        );
    }

    fn skill(id: &str, aliases: &[&str]) -> Skill {
        Skill {
            id: id.into(),
            name: id.into(),
            category: "language".into(),
            aliases: aliases.iter().map(|a| (*a).to_string()).collect(),
            exact_case: vec![],
            ambiguous: vec![],
            cues: vec![],
            not_before: vec![],
            not_after: vec![],
            parents: vec![],
            source: None,
        }
    }

    fn categories() -> BTreeMap<String, String> {
        BTreeMap::from([("language".to_string(), "Languages".to_string())])
    }

    #[test]
    fn a_spelling_claimed_by_two_skills_is_refused_naming_both() {
        let err = Taxonomy::from_parts(1, categories(), vec![skill("a", &["Shared"]), skill("b", &["shared"])], "t").expect_err("refused");
        assert_eq!(
            err.to_string(),
            "taxonomy t: the spelling \"shared\" belongs to both \"a\" and \"b\""
        );
    }

    #[test]
    fn unknown_parents_categories_and_duplicate_ids_are_refused() {
        let mut orphan = skill("a", &[]);
        orphan.parents = vec!["nowhere".into()];
        assert!(matches!(
            Taxonomy::from_parts(1, categories(), vec![orphan], "t"),
            Err(TaxonomyError::UnknownParent { .. })
        ));
        let mut odd = skill("a", &[]);
        odd.category = "gardening".into();
        assert!(matches!(
            Taxonomy::from_parts(1, categories(), vec![odd], "t"),
            Err(TaxonomyError::UnknownCategory { .. })
        ));
        assert!(matches!(
            Taxonomy::from_parts(1, categories(), vec![skill("a", &[]), skill("a", &["x"])], "t"),
            Err(TaxonomyError::DuplicateId { .. })
        ));
    }

    #[test]
    fn a_parse_error_names_the_field() {
        let err = Taxonomy::parse("version: 1\ncategories: {}\nskills:\n  - {id: a, name: A}\n", "t").expect_err("refused");
        assert!(err.to_string().contains("skills[0]"), "{err}");
        assert!(err.to_string().contains("category"), "{err}");
    }
}
