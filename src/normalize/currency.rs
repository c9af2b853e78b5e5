//! Currencies and exchange rates: the curated table in `taxonomies/currencies.csv`, optionally
//! refined by the Federal Reserve's monthly series (`--fx-fed-csv`) so a posting converts at
//! the rate of its own month.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};

const CURRENCIES_CSV: &str = include_str!("../../taxonomies/currencies.csv");

#[derive(Debug, thiserror::Error)]
pub enum FxError {
    #[error("cannot read exchange rates {path}: {source}")]
    Read { path: PathBuf, source: csv::Error },
    #[error("{path} line {line}: field {field}: {message}")]
    Invalid {
        path: PathBuf,
        line: u64,
        field: &'static str,
        message: String,
    },
}

/// One currency of the curated table.
#[derive(Debug, Clone)]
pub struct Currency {
    pub code: String,
    pub name: String,
    /// Symbols and codes that mark the currency in text, longest first.
    pub symbols: Vec<String>,
    /// Reference rate: units of this currency per US dollar.
    pub units_per_usd: f64,
    /// The Federal Reserve series (country) name, when there is one.
    pub fed_series: Option<String>,
}

/// The currency table plus, when loaded, monthly Federal Reserve rates.
#[derive(Debug, Clone)]
pub struct Currencies {
    by_code: HashMap<String, Currency>,
    /// Monthly units-per-USD by currency code, keyed by (year, month).
    monthly: HashMap<String, BTreeMap<(i32, u32), f64>>,
}

impl Currencies {
    /// The built-in table alone.
    pub fn builtin() -> Self {
        let mut reader = csv::Reader::from_reader(CURRENCIES_CSV.as_bytes());
        let mut by_code = HashMap::new();
        for row in reader.records() {
            let row = row.expect("taxonomies/currencies.csv is well-formed (checked by a unit test)");
            let mut symbols: Vec<String> = row[2].split('|').map(str::to_string).collect();
            symbols.sort_by_key(|s| std::cmp::Reverse(s.len()));
            let currency = Currency {
                code: row[0].to_string(),
                name: row[1].to_string(),
                symbols,
                units_per_usd: row[3].parse().expect("currencies.csv rates are numbers (checked by a unit test)"),
                fed_series: Some(row[4].to_string()).filter(|s| !s.is_empty()),
            };
            by_code.insert(currency.code.clone(), currency);
        }
        Currencies {
            by_code,
            monthly: HashMap::new(),
        }
    }

    /// The built-in table refined by a Federal Reserve CSV (`Date,Country,Exchange rate`).
    ///
    /// The shared copy states every series in units per USD although its README says some are
    /// USD per unit; each series' direction is therefore decided by which reading lands closer
    /// to the curated reference rate, so either layout loads correctly.
    pub fn with_fed_csv(path: &Path) -> Result<Self, FxError> {
        let mut table = Self::builtin();
        let code_by_series: HashMap<String, String> = table
            .by_code
            .values()
            .filter_map(|c| c.fed_series.clone().map(|s| (s, c.code.clone())))
            .collect();
        let mut reader = csv::Reader::from_path(path).map_err(|source| FxError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        for (index, row) in reader.records().enumerate() {
            let row = row.map_err(|source| FxError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            let line = index as u64 + 2;
            let Some(code) = code_by_series.get(row.get(1).unwrap_or_default()) else {
                continue;
            };
            let invalid = |field, message: String| FxError::Invalid {
                path: path.to_path_buf(),
                line,
                field,
                message,
            };
            let date = NaiveDate::parse_from_str(row.get(0).unwrap_or_default(), "%Y-%m-%d").map_err(|e| invalid("Date", e.to_string()))?;
            let rate: f64 = row
                .get(2)
                .unwrap_or_default()
                .trim()
                .parse()
                .map_err(|_| invalid("Exchange rate", format!("{:?} is not a number", row.get(2))))?;
            if rate > 0.0 {
                table
                    .monthly
                    .entry(code.clone())
                    .or_default()
                    .insert((date.year(), date.month()), rate);
            }
        }
        for (code, series) in &mut table.monthly {
            let reference = table.by_code[code].units_per_usd;
            let latest = series.values().next_back().copied().unwrap_or(reference);
            if (latest / reference).ln().abs() > ((1.0 / latest) / reference).ln().abs() {
                for rate in series.values_mut() {
                    *rate = 1.0 / *rate;
                }
            }
        }
        Ok(table)
    }

    /// All currencies, for building text matchers.
    pub fn all(&self) -> impl Iterator<Item = &Currency> {
        self.by_code.values()
    }

    /// Converts an amount to US dollars at the posting month's rate when monthly rates are
    /// loaded (the latest month at or before the date), else at the reference rate. `None`
    /// when the currency has no rate.
    pub fn to_usd(&self, amount: f64, code: &str, date: Option<NaiveDate>) -> Option<f64> {
        let reference = self.by_code.get(code)?.units_per_usd;
        let rate = match (self.monthly.get(code), date) {
            (Some(series), Some(date)) => series
                .range(..=(date.year(), date.month()))
                .next_back()
                .or_else(|| series.iter().next())
                .map_or(reference, |(_, r)| *r),
            (Some(series), None) => series.values().next_back().copied().unwrap_or(reference),
            (None, _) => reference,
        };
        Some(amount / rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_loads_every_row() {
        let table = Currencies::builtin();
        assert_eq!(table.all().count(), CURRENCIES_CSV.lines().count() - 1);
        assert_eq!(table.all().find(|c| c.code == "USD").map(|c| c.units_per_usd), Some(1.0));
        assert!(table.all().any(|c| c.code == "EUR" && c.symbols.contains(&"€".to_string())));
    }

    #[test]
    fn conversion_uses_the_reference_rate() {
        let table = Currencies::builtin();
        let usd = table.to_usd(86_840.0, "EUR", None).expect("EUR has a rate");
        assert!((usd - 100_000.0).abs() < 1.0, "{usd}");
        assert_eq!(table.to_usd(1.0, "XXX", None), None);
    }

    #[test]
    fn fed_csv_gives_monthly_rates_in_either_direction() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("fx.csv");
        std::fs::write(
            &path,
            "Date,Country,Exchange rate\n2020-01-01,Euro,0.90\n2020-02-01,Euro,0.80\n2020-01-01,United Kingdom,1.25\n",
        )
        .expect("write");
        let table = Currencies::with_fed_csv(&path).expect("loads");
        let feb = NaiveDate::from_ymd_opt(2020, 2, 15);
        assert!((table.to_usd(80.0, "EUR", feb).expect("rate") - 100.0).abs() < 1e-9);
        let jan = NaiveDate::from_ymd_opt(2020, 1, 15);
        // 1.25 USD per pound is recognised as the inverse layout and read as 0.8 pounds per USD.
        assert!((table.to_usd(80.0, "GBP", jan).expect("rate") - 100.0).abs() < 1e-9);
    }

    #[test]
    fn fed_csv_errors_name_line_and_field() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("fx.csv");
        std::fs::write(&path, "Date,Country,Exchange rate\n2020-01-01,Euro,abc\n").expect("write");
        let err = Currencies::with_fed_csv(&path).expect_err("invalid").to_string();
        assert!(err.contains("line 2") && err.contains("Exchange rate"), "{err}");
    }
}
