"""The cross-validation harness the salary experiments share (`scripts/salary-text-features.py`,
`scripts/salary-company-effect.py`): silver's postings with pay as `rats train salary` takes them,
a simpler base of features than rats' (title words, place, seniority, years, work mode, job type,
education, company size, industry; no cost-of-living index, title families or skills), folds
grouped as rats groups them, and XGBoost with `rats train salary`'s depth-6 settings. Its
figures compare feature sets and fold rules with each other, not with the salary report's.
Needs the packages of scripts/salary-harness-requirements.txt.
"""

import numpy as np
import polars as pl
import scipy.sparse as sp
import xgboost as xgb
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import r2_score


def examples(lake):
    """Silver's postings with pay the board stated or estimated, in US dollars a year between 8k
    and 1.5M (as `rats train salary` takes them), and their log midpoint pay."""
    silver = pl.read_delta(f"{lake}/silver/postings")
    rows = silver.filter(
        pl.col("salary_source").is_in(["stated", "estimated"])
        & pl.col("salary_min_usd").is_not_null()
        & pl.col("salary_max_usd").is_not_null()
    ).with_columns(pay=(pl.col("salary_min_usd") + pl.col("salary_max_usd")) / 2)
    rows = rows.filter(pl.col("pay").is_between(8_000, 1_500_000)).sort("posting_key")
    return rows.with_columns(
        place=pl.concat_str([pl.col("location_city").fill_null(""), pl.col("location_state").fill_null("")], separator=", "),
        dataset=pl.col("source_file").str.split("/").list.get(-2),
        description=pl.col("description").fill_null(""),
    )


def folds(rows, k=5):
    """Groups (company, else lower-cased title and place) assigned whole, largest first, to the
    smallest fold, as `src/ml/folds.rs` does, except that equal-sized groups go in name order
    rather than in the order of rats' seeded hash."""
    groups = [
        company if company else f"{title.lower()}|{place}"
        for company, title, place in zip(rows["company_key"], rows["title"], rows["place"])
    ]
    members = {}
    for i, group in enumerate(groups):
        members.setdefault(group, []).append(i)
    fold_of = np.zeros(len(groups), dtype=int)
    sizes = [0] * k
    for group in sorted(members, key=lambda g: (-len(members[g]), g)):
        smallest = sizes.index(min(sizes))
        fold_of[members[group]] = smallest
        sizes[smallest] += len(members[group])
    return fold_of


def one_hot(values):
    values = ["" if v is None else str(v) for v in values]
    vocabulary = {v: i for i, v in enumerate(sorted(set(values)))}
    matrix = sp.lil_matrix((len(values), len(vocabulary)))
    for row, value in enumerate(values):
        matrix[row, vocabulary[value]] = 1
    return matrix.tocsr()


def base_features(rows):
    title_words = CountVectorizer(ngram_range=(1, 2), binary=True, min_df=5, max_features=400)
    years = rows["min_years_experience"].cast(pl.Float64).fill_null(np.nan).to_numpy().reshape(-1, 1)
    return [
        title_words.fit_transform(rows["title"].to_list()),
        sp.csr_matrix(years),
        *(one_hot(rows[c].to_list()) for c in ("place", "location_state", "location_country", "seniority",
                                                 "remote_type", "job_type", "education_level",
                                                 "company_size_band", "company_industry")),
    ]


def cross_validated(parts, y, fold_of):
    matrix = sp.hstack(parts).tocsr()
    predicted = np.zeros(len(y))
    for fold in range(fold_of.max() + 1):
        train, test = fold_of != fold, fold_of == fold
        model = xgb.XGBRegressor(n_estimators=300, max_depth=6, learning_rate=0.08, min_child_weight=3,
                                 subsample=0.8, colsample_bytree=0.5, reg_lambda=1, tree_method="hist",
                                 n_jobs=2, random_state=42)
        model.fit(matrix[train], y[train])
        predicted[test] = model.predict(matrix[test])
    return predicted


def r2_cells(y, predicted, datasets):
    """R² of log pay out of fold over every posting, then per dataset in name order (the order of
    the scripts' table headers), as Markdown table cells."""
    per_dataset = [r2_score(y[datasets == d], predicted[datasets == d]) for d in sorted(set(datasets))]
    return " | ".join(f"{r2:.3f}" for r2 in [r2_score(y, predicted), *per_dataset])
