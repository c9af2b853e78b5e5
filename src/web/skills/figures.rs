//! The skills page's figures over the postings the filters keep: demand as a heatmap of skill ×
//! month and skill × place (the share of that month's or place's postings naming the skill, so
//! busy and quiet months compare), the skills rising and falling most between the last three
//! months and the three before, and the pairs of skills most often asked for together.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::serve::market::Job;

/// Skills in each heatmap, the most demanded first.
const HEAT_SKILLS: usize = 15;
/// Months in the skill × month heatmap, up to the newest posting's.
const MONTHS: u32 = 12;
/// Places in the skill × place heatmap, the most postings first.
const PLACES: usize = 8;
/// Skills listed as rising and as falling.
const MOVERS: usize = 10;
/// A mover needs this many postings naming it over the six months, and each three-month window
/// this many postings, or the shares would be noise.
const MIN_SKILL_POSTINGS: usize = 20;
const MIN_WINDOW_POSTINGS: usize = 50;
/// A heatmap column (a month, a place) with fewer postings is shown unshaded and left out of
/// the shading's scale: two postings make shares of 0, 50 or 100 % that would drown the rest.
const MIN_COLUMN_POSTINGS: usize = 20;
/// Skills whose pairs are counted, and pairs listed.
const PAIR_SKILLS: usize = 30;
const PAIRS: usize = 15;

/// A heatmap cell: the share in percent and its shade (0–9, relative to the table's largest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub share_pct: f64,
    pub postings: usize,
    pub shade: u8,
    /// Its column has too few postings for the share to mean much (unshaded).
    pub sparse: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeatRow {
    pub skill_id: String,
    pub skill: String,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Heatmap {
    /// Column headings (`2025-04`, `CA, US`) and how many postings each has.
    pub columns: Vec<(String, usize)>,
    pub rows: Vec<HeatRow>,
}

/// A skill's share of postings in the last three months against the three before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mover {
    pub skill_id: String,
    pub skill: String,
    pub share_before_pct: f64,
    pub share_now_pct: f64,
    /// Percentage points.
    pub change: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    pub a: (String, String),
    pub b: (String, String),
    pub postings: usize,
    /// How much more often they appear together than if unrelated (1: no more).
    pub lift: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkillsFigures {
    pub postings: usize,
    pub by_month: Heatmap,
    pub by_place: Heatmap,
    /// The two windows compared (`2025-02 to 2025-04`), when there are enough dated postings.
    pub windows: Option<(String, String)>,
    pub rising: Vec<Mover>,
    pub falling: Vec<Mover>,
    pub pairs: Vec<Pair>,
}

fn month_of(date: NaiveDate) -> String {
    date.format("%Y-%m").to_string()
}

/// The `count` months up to `newest`'s, oldest first.
fn months_up_to(newest: NaiveDate, count: u32) -> Vec<String> {
    let first = newest.with_day(1).unwrap_or(newest);
    (0..count)
        .rev()
        .filter_map(|back| first.checked_sub_months(Months::new(back)))
        .map(month_of)
        .collect()
}

fn pct(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64 * 1000.0).round() / 10.0
    }
}

/// The heatmap of `skills` over `columns`, `group_of` putting a posting in a column.
fn heatmap(jobs: &[&Job], skills: &[(String, String)], columns: Vec<String>, group_of: impl Fn(&Job) -> Option<String>) -> Heatmap {
    let column_at: HashMap<&str, usize> = columns.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect();
    let skill_at: HashMap<&str, usize> = skills.iter().enumerate().map(|(i, (id, _))| (id.as_str(), i)).collect();
    let mut totals = vec![0usize; columns.len()];
    let mut counts = vec![vec![0usize; columns.len()]; skills.len()];
    for job in jobs {
        let Some(column) = group_of(job).and_then(|g| column_at.get(g.as_str()).copied()) else {
            continue;
        };
        totals[column] += 1;
        for id in &job.skill_ids {
            if let Some(&row) = skill_at.get(id.as_str()) {
                counts[row][column] += 1;
            }
        }
    }
    let largest = counts
        .iter()
        .flat_map(|row| {
            row.iter()
                .zip(&totals)
                .filter(|(_, total)| **total >= MIN_COLUMN_POSTINGS)
                .map(|(n, total)| pct(*n, *total))
        })
        .fold(0.0, f64::max);
    let rows = skills
        .iter()
        .zip(counts)
        .map(|((id, name), row)| HeatRow {
            skill_id: id.clone(),
            skill: name.clone(),
            cells: row
                .iter()
                .zip(&totals)
                .map(|(n, total)| {
                    let share_pct = pct(*n, *total);
                    let sparse = *total < MIN_COLUMN_POSTINGS;
                    let shade = if largest > 0.0 && !sparse {
                        (share_pct / largest * 9.0).round() as u8
                    } else {
                        0
                    };
                    Cell {
                        share_pct,
                        postings: *n,
                        shade,
                        sparse,
                    }
                })
                .collect(),
        })
        .collect();
    Heatmap {
        columns: columns.into_iter().zip(totals).collect(),
        rows,
    }
}

fn ranked_skills(jobs: &[&Job], limit: usize, name: &impl Fn(&str) -> String) -> Vec<(String, String)> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for job in jobs {
        for id in &job.skill_ids {
            *counts.entry(id.as_str()).or_default() += 1;
        }
    }
    let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    ranked.into_iter().take(limit).map(|(id, _)| (id.to_string(), name(id))).collect()
}

fn movers(jobs: &[&Job], months: &[String], name: &impl Fn(&str) -> String) -> (Option<(String, String)>, Vec<Mover>, Vec<Mover>) {
    let Some(split) = months.len().checked_sub(3).filter(|s| *s >= 3) else {
        return (None, vec![], vec![]);
    };
    let (before, now): (HashSet<&str>, HashSet<&str>) = (
        months[split - 3..split].iter().map(String::as_str).collect(),
        months[split..].iter().map(String::as_str).collect(),
    );
    let (mut totals, mut counts) = ([0usize; 2], HashMap::<&str, [usize; 2]>::new());
    for job in jobs {
        let Some(month) = job.date_posted.map(month_of) else { continue };
        let window = if now.contains(month.as_str()) {
            1
        } else if before.contains(month.as_str()) {
            0
        } else {
            continue;
        };
        totals[window] += 1;
        for id in &job.skill_ids {
            counts.entry(id.as_str()).or_default()[window] += 1;
        }
    }
    let label = |w: &[String]| format!("{} to {}", w[0], w[w.len() - 1]);
    let windows = Some((label(&months[split - 3..split]), label(&months[split..])));
    if totals.iter().any(|t| *t < MIN_WINDOW_POSTINGS) {
        return (windows, vec![], vec![]);
    }
    let mut all: Vec<Mover> = counts
        .into_iter()
        .filter(|(_, n)| n[0] + n[1] >= MIN_SKILL_POSTINGS)
        .map(|(id, n)| {
            let (share_before_pct, share_now_pct) = (pct(n[0], totals[0]), pct(n[1], totals[1]));
            Mover {
                skill_id: id.to_string(),
                skill: name(id),
                share_before_pct,
                share_now_pct,
                change: ((share_now_pct - share_before_pct) * 10.0).round() / 10.0,
            }
        })
        .collect();
    all.sort_by(|a, b| b.change.total_cmp(&a.change).then_with(|| a.skill_id.cmp(&b.skill_id)));
    let falling: Vec<Mover> = all.iter().rev().filter(|m| m.change < 0.0).take(MOVERS).cloned().collect();
    all.retain(|m| m.change > 0.0);
    all.truncate(MOVERS);
    (windows, all, falling)
}

fn pairs(jobs: &[&Job], skills: &[(String, String)]) -> Vec<Pair> {
    let at: HashMap<&str, usize> = skills.iter().enumerate().map(|(i, (id, _))| (id.as_str(), i)).collect();
    let mut singles = vec![0usize; skills.len()];
    let mut together: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for job in jobs {
        let mut mine: Vec<usize> = job.skill_ids.iter().filter_map(|id| at.get(id.as_str()).copied()).collect();
        mine.sort_unstable();
        mine.dedup();
        for (k, &a) in mine.iter().enumerate() {
            singles[a] += 1;
            for &b in &mine[k + 1..] {
                *together.entry((a, b)).or_default() += 1;
            }
        }
    }
    let n = jobs.len() as f64;
    let mut listed: Vec<Pair> = together
        .into_iter()
        .map(|((a, b), postings)| Pair {
            a: skills[a].clone(),
            b: skills[b].clone(),
            postings,
            lift: ((postings as f64 * n / (singles[a] as f64 * singles[b] as f64)) * 10.0).round() / 10.0,
        })
        .collect();
    listed.sort_by(|x, y| y.postings.cmp(&x.postings).then_with(|| y.lift.total_cmp(&x.lift)));
    listed.truncate(PAIRS);
    listed
}

/// The figures for `jobs`; `name` gives a skill id's display name.
pub fn compute(jobs: &[&Job], name: impl Fn(&str) -> String) -> SkillsFigures {
    let heat_skills = ranked_skills(jobs, HEAT_SKILLS, &name);
    let months = jobs
        .iter()
        .filter_map(|j| j.date_posted)
        .max()
        .map_or_else(Vec::new, |newest| months_up_to(newest, MONTHS));
    let mut place_counts: HashMap<String, usize> = HashMap::new();
    for place in jobs.iter().filter_map(|j| j.place()) {
        *place_counts.entry(place).or_default() += 1;
    }
    let mut places: Vec<(String, usize)> = place_counts.into_iter().collect();
    places.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let places: Vec<String> = places.into_iter().take(PLACES).map(|(p, _)| p).collect();
    let (windows, rising, falling) = movers(jobs, &months, &name);
    SkillsFigures {
        postings: jobs.len(),
        by_month: heatmap(jobs, &heat_skills, months, |j| j.date_posted.map(month_of)),
        by_place: heatmap(jobs, &heat_skills, places, Job::place),
        windows,
        rising,
        falling,
        pairs: pairs(jobs, &ranked_skills(jobs, PAIR_SKILLS, &name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(date: &str, state: &str, skills: &[&str]) -> Job {
        Job {
            location_state: Some(state.into()),
            location_country: Some("US".into()),
            skill_ids: skills.iter().map(ToString::to_string).collect(),
            ..Job::for_test(&format!("{date}{state}{skills:?}"), date)
        }
    }

    #[test]
    fn months_count_back_from_the_newest_posting() {
        let newest = NaiveDate::from_ymd_opt(2025, 2, 17).expect("a date");
        assert_eq!(months_up_to(newest, 3), ["2024-12", "2025-01", "2025-02"]);
    }

    /// `copies` of each posting (a month needs 20 postings to be shaded).
    fn repeated(copies: usize, jobs: &[Job]) -> Vec<&Job> {
        jobs.iter().flat_map(|j| std::iter::repeat_n(j, copies)).collect()
    }

    #[test]
    fn heat_is_the_share_of_the_column_and_shades_scale_to_the_largest() {
        let jobs = [
            job("2025-01-05", "WA", &["rust", "sql"]),
            job("2025-01-06", "WA", &["sql"]),
            job("2025-02-01", "CA", &["rust"]),
            job("2025-02-02", "CA", &[]),
            job("2025-02-03", "CA", &[]),
            job("2025-02-04", "CA", &[]),
        ];
        let refs = repeated(10, &jobs);
        let figures = compute(&refs, str::to_uppercase);
        let months: Vec<&str> = figures.by_month.columns.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(months.len(), 12);
        assert_eq!(months[10..], ["2025-01", "2025-02"]);
        let rust = figures.by_month.rows.iter().find(|r| r.skill_id == "rust").expect("rust");
        assert_eq!(rust.skill, "RUST");
        assert_eq!((rust.cells[10].share_pct, rust.cells[11].share_pct), (50.0, 25.0));
        let sql = figures.by_month.rows.iter().find(|r| r.skill_id == "sql").expect("sql");
        assert_eq!((sql.cells[10].share_pct, sql.cells[10].shade), (100.0, 9));
        assert_eq!(rust.cells[11].shade, 2, "25 % of the largest share, 100 %, on 0–9");
        assert_eq!(figures.by_place.columns, [("CA, US".to_string(), 40), ("WA, US".to_string(), 20)]);
        assert_eq!(figures.pairs.len(), 1);
        assert_eq!(
            (figures.pairs[0].postings, figures.pairs[0].lift),
            (10, 1.5),
            "10 together × 60 postings / (20 rust × 20 sql)"
        );
        assert!(
            figures.rising.is_empty() && figures.falling.is_empty(),
            "too few postings to compare"
        );
    }

    #[test]
    fn a_column_of_few_postings_is_unshaded_and_out_of_the_scale() {
        let mut jobs = vec![job("2025-01-05", "WA", &["rust"]); 2];
        jobs.extend((0..40).map(|i| job("2025-02-01", "WA", if i < 10 { &["rust"] } else { &[] })));
        let refs: Vec<&Job> = jobs.iter().collect();
        let figures = compute(&refs, str::to_string);
        let rust = &figures.by_month.rows[0].cells;
        assert_eq!((rust[10].share_pct, rust[10].shade, rust[10].sparse), (100.0, 0, true));
        assert_eq!(
            (rust[11].share_pct, rust[11].shade, rust[11].sparse),
            (25.0, 9, false),
            "the largest shaded share"
        );
    }

    #[test]
    fn movers_compare_the_last_three_months_with_the_three_before() {
        let mut jobs = Vec::new();
        for i in 0..60 {
            let day = format!("{:02}", i % 28 + 1);
            let before: &[&str] = match i {
                0..20 => &["rust"],
                20..40 => &["sql"],
                _ => &[],
            };
            jobs.push(job(&format!("2024-11-{day}"), "WA", before));
            jobs.push(job(&format!("2025-02-{day}"), "WA", if i < 40 { &["rust"] } else { &[] }));
        }
        let refs: Vec<&Job> = jobs.iter().collect();
        let figures = compute(&refs, str::to_string);
        assert_eq!(
            figures.windows,
            Some(("2024-09 to 2024-11".to_string(), "2024-12 to 2025-02".to_string()))
        );
        let shares = |m: &Mover| (m.skill_id.clone(), m.share_before_pct, m.share_now_pct, m.change);
        assert_eq!(
            figures.rising.iter().map(shares).collect::<Vec<_>>(),
            [("rust".to_string(), 33.3, 66.7, 33.4)]
        );
        assert_eq!(
            figures.falling.iter().map(shares).collect::<Vec<_>>(),
            [("sql".to_string(), 33.3, 0.0, -33.3)]
        );
    }
}
