//! Pay: from structured fields or from free text ("$53K-$91K (Glassdoor est.)", "$41,000.00",
//! "$170-225K + equity", "€60k–€80k", "$17-$20 Per Hour") into a range in the stated currency,
//! annualised, and in US dollars. No evidence, no value: an amount is only taken when the text
//! marks it as pay (a currency, a `k` range, an interval or a pay word) and it is plausible.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;

use super::currency::Currencies;
use crate::contract::JobListing;

/// A pay interval and how many of it make a year (2,080 working hours, 260 days, 52 weeks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Yearly,
    Monthly,
    Weekly,
    Daily,
    Hourly,
}

impl Interval {
    pub fn annual_factor(self) -> f64 {
        match self {
            Interval::Yearly => 1.0,
            Interval::Monthly => 12.0,
            Interval::Weekly => 52.0,
            Interval::Daily => 260.0,
            Interval::Hourly => 2080.0,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Yearly => "yearly",
            Interval::Monthly => "monthly",
            Interval::Weekly => "weekly",
            Interval::Daily => "daily",
            Interval::Hourly => "hourly",
        }
    }

    /// Reads the interval names boards use: "yearly", "Annual", "per hour", "hr", "Daily" ...
    pub fn parse(text: &str) -> Option<Self> {
        let word = text.trim().trim_start_matches("per ").trim_start_matches('/').to_ascii_lowercase();
        Some(match word.as_str() {
            "yearly" | "year" | "annual" | "annually" | "annum" | "yr" => Interval::Yearly,
            "monthly" | "month" | "mo" => Interval::Monthly,
            "weekly" | "week" | "wk" => Interval::Weekly,
            "daily" | "day" => Interval::Daily,
            "hourly" | "hour" | "hr" => Interval::Hourly,
            _ => return None,
        })
    }
}

/// Where a salary figure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SalarySource {
    /// The employer or the dataset states the figure.
    Stated,
    /// The board estimated it (Glassdoor est.).
    Estimated,
    /// Found in the description text.
    ParsedFromText,
}

impl SalarySource {
    pub fn as_str(self) -> &'static str {
        match self {
            SalarySource::Stated => "stated",
            SalarySource::Estimated => "estimated",
            SalarySource::ParsedFromText => "parsed_from_text",
        }
    }

    /// Reads our own names and `JobSpy`'s (`direct_data`, `description`).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "stated" | "direct_data" | "employer" => Some(SalarySource::Stated),
            "estimated" | "estimate" => Some(SalarySource::Estimated),
            "parsed_from_text" | "description" => Some(SalarySource::ParsedFromText),
            _ => None,
        }
    }
}

/// A normalised salary. Amounts are `None` where the source gave no figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Salary {
    pub interval: Interval,
    pub currency: Option<String>,
    pub min_annual: Option<f64>,
    pub max_annual: Option<f64>,
    pub min_usd: Option<f64>,
    pub max_usd: Option<f64>,
    pub source: SalarySource,
}

/// A pay statement found in text, before annualising.
#[derive(Debug, Clone, PartialEq)]
pub struct PayText {
    pub min: f64,
    pub max: f64,
    pub currency: Option<String>,
    pub interval: Interval,
    pub estimated: bool,
}

/// How strict text parsing is: a salary column is pay by definition, prose is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    SalaryField,
    Prose,
}

/// The normalised salary of a listing: structured amounts first, then the salary text, then
/// the description (already converted to plain text). Structured amounts of 0 or less state
/// nothing (Glassdoor writes -1 and NYC 0 for "not given"); a reversed range is swapped.
pub fn normalise(listing: &JobListing, description: Option<&str>, date: Option<NaiveDate>, currencies: &Currencies) -> Option<Salary> {
    let comp = listing.compensation();
    let declared_source = listing.salary_source.as_deref().and_then(SalarySource::parse);
    let positive = |v: Option<f64>| v.filter(|v| v.is_finite() && *v > 0.0);
    let (min, max) = (positive(comp.min_amount), positive(comp.max_amount));
    if min.is_some() || max.is_some() {
        let (min, max) = match (min, max) {
            (Some(a), Some(b)) if a > b => (Some(b), Some(a)),
            pair => pair,
        };
        let currency = comp
            .currency
            .as_deref()
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty());
        let interval = comp.interval.as_deref().and_then(Interval::parse).or_else(|| {
            let largest = max.or(min)?;
            infer_interval(largest, currency.as_deref(), currencies)
        })?;
        return Some(build(
            min,
            max,
            interval,
            currency,
            declared_source.unwrap_or(SalarySource::Stated),
            date,
            currencies,
        ));
    }
    if let Some(text) = comp.salary_text.as_deref()
        && let Some(pay) = parse_text(text, TextKind::SalaryField, currencies)
    {
        let source = if pay.estimated {
            SalarySource::Estimated
        } else {
            declared_source.unwrap_or(SalarySource::Stated)
        };
        return Some(build(
            Some(pay.min),
            Some(pay.max),
            pay.interval,
            pay.currency,
            source,
            date,
            currencies,
        ));
    }
    let pay = parse_text(description?, TextKind::Prose, currencies)?;
    Some(build(
        Some(pay.min),
        Some(pay.max),
        pay.interval,
        pay.currency,
        SalarySource::ParsedFromText,
        date,
        currencies,
    ))
}

fn build(
    min: Option<f64>,
    max: Option<f64>,
    interval: Interval,
    currency: Option<String>,
    source: SalarySource,
    date: Option<NaiveDate>,
    currencies: &Currencies,
) -> Salary {
    let factor = interval.annual_factor();
    let (min_annual, max_annual) = (min.map(|v| v * factor), max.map(|v| v * factor));
    let usd = |v: Option<f64>| {
        currency
            .as_deref()
            .and_then(|c| currencies.to_usd(v?, c, date))
            .map(|v| (v * 100.0).round() / 100.0)
    };
    Salary {
        interval,
        min_usd: usd(min_annual),
        max_usd: usd(max_annual),
        currency,
        min_annual,
        max_annual,
        source,
    }
}

/// Guesses the interval of an amount without one, from its size in US dollars: a year's pay
/// is at least 15,000, an hour's 7 to 300; anything between is too ambiguous to keep.
fn infer_interval(amount: f64, currency: Option<&str>, currencies: &Currencies) -> Option<Interval> {
    let usd = match currency {
        Some(code) => currencies.to_usd(amount, code, None)?,
        None => amount,
    };
    if usd >= 15_000.0 {
        Some(Interval::Yearly)
    } else if (7.0..=300.0).contains(&usd) {
        Some(Interval::Hourly)
    } else {
        None
    }
}

const SYMBOLS: &str = r"US\$|CA\$|C\$|AU\$|A\$|NZ\$|HK\$|NT\$|MX\$|S\$|R\$|Rs\.|\$|£|€|¥|₹|₩|฿";
const CODES: &str = r"USD|EUR|GBP|CAD|AUD|NZD|CHF|SEK|NOK|DKK|JPY|CNY|RMB|HKD|SGD|INR|KRW|TWD|MYR|THB|MXN|BRL|ZAR|LKR|PLN";

static AMOUNT_RANGE: LazyLock<Regex> = LazyLock::new(|| {
    let number = r"\d{1,3}(?:[,.]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?";
    let amount = |i: u8| {
        format!(
            r"(?:(?P<s{i}>{SYMBOLS})\s?|(?P<cb{i}>{CODES})\s)?(?P<n{i}>{number})(?:\s?(?P<m{i}>[kKmMbB][a-zA-Z]*))?(?:\s(?P<ca{i}>{CODES})(?-u:\b))?"
        )
    };
    let pattern = format!(r"{}(?:\s*(?:-|–|—|to|and)\s*{})?", amount(1), amount(2));
    Regex::new(&pattern).expect("valid salary regex")
});
/// The most bytes an amount of [`AMOUNT_RANGE`] holds before its number's first digit: a
/// currency symbol or code of up to three bytes ("US$", "₹", "USD") and one white-space
/// character of up to three (U+3000).
const MOST_BYTES_BEFORE_NUMBER: usize = 6;
static INTERVAL_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\+?\s*(?:\(.{0,30}?\)\s*)?(?:/|per|an?|each|every)?\s*(hourly|hour|hr|annually|annual|annum|year|yr|monthly|month|mo|weekly|week|wk|daily|day)(?-u:\b)")
        .expect("valid regex")
});
static PAY_WORD_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(salary|salaries|pay|paid|compensation|comp|base|wage|wages|rate|ote|earn|earning|range|tc)(?-u:\b)")
        .expect("valid regex")
});
static NOT_PAY_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(bonus|revenue|raised|raise|funding|funded|valuation|series|budget|stipend|relocation|reimburse\w*|tuition|customers|contracts?|arr|investment|invested|sales|deals?|fund|grant|assets|aum)(?-u:\b)")
        .expect("valid regex")
});

/// Finds the first pay statement in `text`: a range wins over a single amount.
///
/// The amounts are those `AMOUNT_RANGE.captures_iter` finds, but the pattern is searched from
/// just before each numeral instead of over every byte between them: an amount's number starts
/// with a digit and its currency stands at most [`MOST_BYTES_BEFORE_NUMBER`] bytes before it,
/// so the leftmost amount from any point starts in that reach of the next digit (a digit begins
/// an amount of its own). The regex engine walked all the text between amounts: for the
/// benchmark's 101,525 descriptions, 1.1-1.2 s of one core before, 0.5 s now (BENCHMARKS.md).
pub fn parse_text(text: &str, kind: TextKind, currencies: &Currencies) -> Option<PayText> {
    let mut single = None;
    let mut from = 0;
    while let Some(numeral) = next_numeral(text, from) {
        let reach = floor_char_boundary(text, numeral.saturating_sub(MOST_BYTES_BEFORE_NUMBER)).max(from);
        let Some(caps) = AMOUNT_RANGE.captures_at(text, reach) else {
            break;
        };
        let whole = caps.get(0).expect("group 0 always matches");
        from = whole.end();
        let Some(candidate) = candidate(&caps, text, whole.start(), kind, currencies) else {
            continue;
        };
        if caps.name("n2").is_some() {
            return Some(estimated(text, candidate));
        }
        single.get_or_insert(candidate);
    }
    single.map(|candidate| estimated(text, candidate))
}

/// Marks pay the text calls an estimate ("est.", "estimated").
fn estimated(text: &str, candidate: PayText) -> PayText {
    let estimated = text.contains("est.") || text.to_ascii_lowercase().contains("estimate");
    PayText { estimated, ..candidate }
}

fn candidate(caps: &regex::Captures<'_>, text: &str, start: usize, kind: TextKind, currencies: &Currencies) -> Option<PayText> {
    let is_range = caps.name("n2").is_some();
    let multiplier = |i: u8| -> Option<Option<f64>> {
        match caps.name(&format!("m{i}")).map(|m| m.as_str().to_ascii_lowercase()) {
            Some(word) if word == "k" => Some(Some(1_000.0)),
            // Millions and billions are funding and revenue, never pay.
            Some(word)
                if matches!(
                    word.as_str(),
                    "m" | "mm" | "mil" | "mn" | "million" | "b" | "bn" | "billion" | "billions" | "millions"
                ) =>
            {
                None
            }
            _ => Some(None),
        }
    };
    let (m1, m2) = (multiplier(1)?, if is_range { multiplier(2)? } else { None });
    let mut first = parse_number(caps.name("n1")?.as_str())?;
    let mut second = match caps.name("n2") {
        Some(n) => parse_number(n.as_str())?,
        None => first,
    };
    if let Some(k) = m1 {
        first *= k;
    }
    if let Some(k) = m2 {
        second *= k;
    } else if !is_range && let Some(k) = m1 {
        second = first.max(second * k);
    }
    // "$170-225K": the multiplier written once applies to both ends.
    if m1.is_none() && m2.is_some() && first < 1_000.0 {
        first *= m2.unwrap_or(1.0);
    }
    if first > second || first <= 0.0 {
        return None;
    }

    let currency = ["s1", "cb1", "ca1", "s2", "cb2", "ca2"]
        .iter()
        .find_map(|g| caps.name(g))
        .map(|m| symbol_to_code(m.as_str(), currencies));
    let currency = match currency {
        Some(Some(code)) => Some(code),
        Some(None) => return None,
        None => None,
    };
    let number_end = caps.name(if is_range { "n2" } else { "n1" })?.end();
    // The interval follows the multiplier and a trailing currency code: "3,000 - 3,500 GBP per month".
    let (multiplier_group, code_group) = if is_range { ("m2", "ca2") } else { ("m1", "ca1") };
    let after_number = caps
        .name(code_group)
        .or_else(|| caps.name(multiplier_group))
        .map_or(number_end, |m| m.end());
    let after = &text[after_number..floor_char_boundary(text, text.len().min(after_number + 40))];
    let stated_interval = INTERVAL_AFTER.captures(after).and_then(|c| Interval::parse(&c[1]));
    let has_k = m1.is_some() || m2.is_some();

    if kind == TextKind::Prose {
        let before = &text[floor_char_boundary(text, start.saturating_sub(60))..start];
        let near_before = &text[floor_char_boundary(text, start.saturating_sub(25))..start];
        if NOT_PAY_BEFORE.is_match(near_before) {
            return None;
        }
        let pay_word = PAY_WORD_BEFORE.is_match(before);
        let marked = currency.is_some() || (is_range && has_k) || (pay_word && (is_range || stated_interval.is_some()));
        if !marked {
            return None;
        }
    }
    let interval = match stated_interval {
        Some(interval) => interval,
        None => infer_interval(second, currency.as_deref(), currencies)?,
    };
    let annual_usd = {
        let annual = second * interval.annual_factor();
        match currency.as_deref() {
            Some(code) => currencies.to_usd(annual, code, None).unwrap_or(annual),
            None => annual,
        }
    };
    if !(1_000.0..=5_000_000.0).contains(&annual_usd) {
        return None;
    }
    Some(PayText {
        min: first,
        max: second,
        currency,
        interval,
        estimated: false,
    })
}

/// The ISO code for a symbol or code; `None` when the currency is unknown to the table.
fn symbol_to_code(symbol: &str, currencies: &Currencies) -> Option<String> {
    let upper = symbol.to_ascii_uppercase();
    if upper == "RMB" {
        return Some("CNY".to_string());
    }
    currencies
        .all()
        .find(|c| c.code == upper || c.symbols.iter().any(|s| s.eq_ignore_ascii_case(symbol)))
        .map(|c| c.code.clone())
}

/// Reads "41,000.00", "60.000", "12.50" and "1,5": the last separator is decimal when one or
/// two digits follow it, otherwise every separator groups thousands.
fn parse_number(text: &str) -> Option<f64> {
    let last_sep = text.rfind([',', '.']);
    let normalised: String = match last_sep {
        Some(pos) if text.len() - pos - 1 <= 2 => {
            let (int, frac) = text.split_at(pos);
            format!("{}.{}", int.replace([',', '.'], ""), &frac[1..])
        }
        _ => text.replace([',', '.'], ""),
    };
    normalised.parse().ok()
}

/// Where the first character at or after `from` that Rust calls numeric starts: every digit
/// the pattern's `\d` matches is one (a test checks each character), so no amount starts
/// before the returned numeral's reach; a numeral that is no digit ("½") only costs a search.
fn next_numeral(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = from;
    while let Some(&byte) = bytes.get(at) {
        if byte.is_ascii_digit() {
            return Some(at);
        }
        if byte.is_ascii() {
            at += 1;
            continue;
        }
        let character = text[at..].chars().next()?;
        if character.is_numeric() {
            return Some(at);
        }
        at += character.len_utf8();
    }
    None
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Compensation;

    fn field(text: &str) -> Option<PayText> {
        parse_text(text, TextKind::SalaryField, &Currencies::builtin())
    }

    fn prose(text: &str) -> Option<(f64, f64, Option<String>, Interval)> {
        parse_text(text, TextKind::Prose, &Currencies::builtin()).map(|p| (p.min, p.max, p.currency, p.interval))
    }

    #[test]
    fn glassdoor_estimates() {
        let pay = field("$137K-$171K (Glassdoor est.)").expect("parses");
        assert_eq!(
            (pay.min, pay.max, pay.currency.as_deref(), pay.interval, pay.estimated),
            (137_000.0, 171_000.0, Some("USD"), Interval::Yearly, true)
        );
        let hourly = field("$17-$20 Per Hour(Glassdoor est.)").expect("parses");
        assert_eq!((hourly.min, hourly.max, hourly.interval), (17.0, 20.0, Interval::Hourly));
        let employer = field("Employer Provided Salary:$80K - $100K").expect("parses");
        assert_eq!((employer.min, employer.max, employer.estimated), (80_000.0, 100_000.0, false));
    }

    #[test]
    fn plain_amounts_and_separators() {
        assert_eq!(field("$41,000.00").map(|p| (p.min, p.max)), Some((41_000.0, 41_000.0)));
        assert_eq!(
            prose("Salary: 60.000 EUR per year"),
            Some((60_000.0, 60_000.0, Some("EUR".into()), Interval::Yearly))
        );
        assert_eq!(
            prose("Pay rate $22.50/hr"),
            Some((22.5, 22.5, Some("USD".into()), Interval::Hourly))
        );
    }

    #[test]
    fn one_multiplier_covers_the_range() {
        assert_eq!(
            prose("Remote | $170-225K + equity"),
            Some((170_000.0, 225_000.0, Some("USD".into()), Interval::Yearly))
        );
        assert_eq!(
            prose("Growth Engineer | €60k–€80k"),
            Some((60_000.0, 80_000.0, Some("EUR".into()), Interval::Yearly))
        );
        assert_eq!(
            prose("SmarterDx | 150-250k+ + equity"),
            Some((150_000.0, 250_000.0, None, Interval::Yearly))
        );
    }

    /// A currency of the table that the text pattern does not know would be read as no
    /// currency at all, or not at all.
    #[test]
    fn every_currency_of_the_table_is_read_by_its_code() {
        for currency in Currencies::builtin().all() {
            assert!(
                CODES.split('|').any(|code| code == currency.code),
                "{} is not in CODES",
                currency.code
            );
        }
        assert_eq!(
            prose("Salary: 12,000 - 18,000 PLN per month"),
            Some((12_000.0, 18_000.0, Some("PLN".into()), Interval::Monthly))
        );
    }

    /// The search starts each amount's pattern at most six bytes before a numeral: a currency
    /// that takes all six (a three-byte symbol or code and a three-byte space) must be read
    /// whole, and neither other scripts nor numerals that are no digits may hide an amount.
    #[test]
    fn amounts_are_read_whole_wherever_their_numbers_stand() {
        for (text, min, max, currency, interval) in [
            (
                "Salary: US$\u{3000}90,000 - 120,000 per year",
                90_000.0,
                120_000.0,
                "USD",
                Interval::Yearly,
            ),
            ("Salary: USD\u{3000}80,000 per year", 80_000.0, 80_000.0, "USD", Interval::Yearly),
            (
                "Zürich – Gehalt ½ Tag frei, salary ₹\u{2003}1,200,000 per year",
                1_200_000.0,
                1_200_000.0,
                "INR",
                Interval::Yearly,
            ),
            ("薪资面议 ² — pay $25 - $30 per hour", 25.0, 30.0, "USD", Interval::Hourly),
        ] {
            assert_eq!(prose(text), Some((min, max, Some(currency.into()), interval)), "{text}");
        }
    }

    /// [`MOST_BYTES_BEFORE_NUMBER`] is read off `SYMBOLS`, `CODES` and `\s`: a longer symbol or
    /// code added to the pattern must raise it, or amounts written with it lose their currency.
    #[test]
    fn the_reach_before_a_number_covers_every_currency_and_space() {
        let longest_currency = SYMBOLS.split('|').chain(CODES.split('|')).map(|c| c.replace('\\', "").len()).max();
        let longest_space = (0..=u32::from(char::MAX))
            .filter_map(char::from_u32)
            .filter(|c| c.is_whitespace())
            .map(char::len_utf8)
            .max();
        let reach = longest_currency.zip(longest_space).map(|(currency, space)| currency + space);
        assert!(reach.is_some_and(|reach| reach <= MOST_BYTES_BEFORE_NUMBER), "{reach:?}");
    }

    /// [`next_numeral`] may stop at numerals that are no digits, never pass a digit by.
    #[test]
    fn every_digit_of_the_amount_pattern_is_a_numeral() {
        let digit = Regex::new(r"^\d$").expect("valid regex");
        let mut text = String::new();
        for character in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            text.clear();
            text.push(character);
            assert!(
                !digit.is_match(&text) || character.is_numeric(),
                "{character:?} is a digit to the pattern but not numeric"
            );
        }
    }

    #[test]
    fn other_intervals() {
        assert_eq!(
            prose("£3,000 - £3,500 per month"),
            Some((3_000.0, 3_500.0, Some("GBP".into()), Interval::Monthly))
        );
        assert_eq!(
            prose("we pay $400 a day"),
            Some((400.0, 400.0, Some("USD".into()), Interval::Daily))
        );
        assert_eq!(
            prose("CA$1,200 weekly"),
            Some((1_200.0, 1_200.0, Some("CAD".into()), Interval::Weekly))
        );
        // Read from the words after a trailing code, not guessed from the amount (3,500 GBP
        // a year would be too little to be yearly pay, and too much to be hourly).
        assert_eq!(
            prose("3,000 - 3,500 GBP per month"),
            Some((3_000.0, 3_500.0, Some("GBP".into()), Interval::Monthly))
        );
    }

    #[test]
    fn funding_and_counts_are_not_pay() {
        assert_eq!(prose("building a $200B+ company with $1MM+ in revenue and a $50mil Series B"), None);
        assert_eq!(
            prose("3+ years of experience, 5-7 years preferred, 2,000 people on the waitlist"),
            None
        );
        assert_eq!(prose("a $5,000 signing bonus"), None);
        assert_eq!(prose("0.3-0.41% equity"), None);
        assert_eq!(prose(""), None);
    }

    #[test]
    fn structured_amounts_are_annualised_and_converted() {
        let listing = JobListing {
            compensation: Some(Compensation {
                interval: Some("Hourly".into()),
                min_amount: Some(20.0),
                max_amount: Some(30.0),
                currency: Some("usd".into()),
                salary_text: None,
            }),
            ..JobListing::default()
        };
        let salary = normalise(&listing, None, None, &Currencies::builtin()).expect("salary");
        assert_eq!((salary.min_annual, salary.max_annual), (Some(41_600.0), Some(62_400.0)));
        assert_eq!((salary.min_usd, salary.source), (Some(41_600.0), SalarySource::Stated));
    }

    #[test]
    fn no_evidence_no_salary() {
        let listing = JobListing {
            compensation: Some(Compensation {
                min_amount: Some(-1.0),
                ..Compensation::default()
            }),
            ..JobListing::default()
        };
        assert_eq!(
            normalise(&listing, Some("Great team, great snacks."), None, &Currencies::builtin()),
            None
        );
    }
}
