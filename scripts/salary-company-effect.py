"""Measures how much of the salary model's error on a lake is the company: the same features and
model scored under folds that keep each company's postings on one side (the rule
`rats train salary` follows, which the issue asks for) and under folds that let a company's
postings sit on both sides (only a company's postings of one title in one place are kept
together), then with the company itself as a feature, and under the rule with what might stand
in for an unseen company: the words of company names ("Consulting", "University", "Bank"), and the
facts the board gives about the company that silver does not keep (Glassdoor's rating in both
files; founding year, revenue band, type of ownership and sector in the data-analyst file), read
from each posting's source record.

    python3 scripts/salary-company-effect.py LAKE

LAKE is a lake `rats consume` built. Needs the packages of scripts/salary-harness-requirements.txt;
the base features, folds and model are `scripts/salary_harness.py`'s. Prints a Markdown table of
R² (log pay) out of fold, over every posting and per dataset.
"""

import csv
import sys

import numpy as np
import scipy.sparse as sp
from salary_harness import base_features, cross_validated, examples, folds, one_hot, r2_cells
from sklearn.feature_extraction.text import CountVectorizer


def folds_letting_companies_straddle(rows, k=5, seed=42):
    """Folds that keep together only one company's postings of one title in one place (re-posts
    of one job), each such group sent to a fold at random."""
    keys = [
        f"{company}|{title.lower()}|{place}"
        for company, title, place in zip(rows["company_key"], rows["title"], rows["place"])
    ]
    index = {key: i for i, key in enumerate(sorted(set(keys)))}
    fold_of_group = np.random.default_rng(seed).permutation(len(index)) % k
    return np.array([fold_of_group[index[key]] for key in keys])


def board_company_facts(rows):
    """The company facts of each posting's source record (`source_file`, 1-based `source_record`):
    the rating and founding year as numbers (Glassdoor writes -1 for unknown, kept as missing),
    revenue band, type of ownership and sector one-hot (empty where the file has no such column)."""
    records = {}

    def record(path, number):
        if path not in records:
            with open(path, newline="", encoding="utf-8") as file:
                records[path] = list(csv.DictReader(file))
        return records[path][number - 1]

    def number(text):
        try:
            value = float(text)
        except (TypeError, ValueError):
            return np.nan
        return np.nan if value == -1 else value

    source = [record(path, n) for path, n in zip(rows["source_file"], rows["source_record"])]
    numbers = np.array([[number(r.get("Rating")), number(r.get("Founded"))] for r in source])
    return [sp.csr_matrix(numbers)] + [one_hot([r.get(c) or "" for r in source]) for c in ("Revenue", "Type of ownership", "Sector")]


def main():
    rows = examples(sys.argv[1])
    y = np.log(rows["pay"].to_numpy())
    base = base_features(rows)
    company = one_hot(rows["company_key"].to_list())
    name_words = CountVectorizer(binary=True, min_df=5).fit_transform(rows["company"].fill_null("").to_list())
    by_company, straddling = folds(rows), folds_letting_companies_straddle(rows)
    datasets = rows["dataset"].to_numpy()
    names = sorted(set(datasets))
    print(f"{len(y)} postings with pay, {company.shape[1]} companies, {name_words.shape[1]} company-name words")
    print(f"| folds | features | R² (log), all | {' | '.join(names)} |")
    print(f"|---|---|---:|{'---:|' * len(names)}")
    for fold_rule, features, parts, fold_of in [
        ("a company on one side", "base", base, by_company),
        ("a company on one side", "base + company-name words", base + [name_words], by_company),
        ("a company on one side", "base + the board's company facts", base + board_company_facts(rows), by_company),
        ("a company on both sides", "base", base, straddling),
        ("a company on both sides", "base + the company", base + [company], straddling),
    ]:
        predicted = cross_validated(parts, y, fold_of)
        print(f"| {fold_rule} | {features} | {r2_cells(y, predicted, datasets)} |", flush=True)


if __name__ == "__main__":
    main()
