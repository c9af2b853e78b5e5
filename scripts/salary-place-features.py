"""Measures what the salary model's place columns are worth on a lake: the harness's base (whose
place is a one-hot of city and state, `scripts/salary_harness.py`) against the same base without
that city one-hot, without it but with the metro and state cost-of-living index `rats train
salary` uses instead (`reference/cost-of-living`, AdvisorSmith), and the base with the index
added. Folds keep each company's postings on one side, as rats does.

    python3 scripts/salary-place-features.py LAKE

LAKE is a lake `rats consume` built; the index is read from $RATS_DATASETS (default
../shared/datasets). Needs the packages of scripts/salary-harness-requirements.txt. Prints a
Markdown table of R² (log pay) out of fold, over every posting and per dataset.
"""

import csv
import os
import sys

import numpy as np
import scipy.sparse as sp
from salary_harness import base_features, cross_validated, examples, folds, r2_cells


def cost_of_living(rows):
    """Each posting's metro index (by lower-cased city and state) and its state's mean over its
    metros, missing where the table has neither, as `src/ml/features.rs` looks them up."""
    datasets = os.environ.get("RATS_DATASETS", "../shared/datasets")
    path = f"{datasets}/reference/cost-of-living/advisorsmith_cost_of_living_index.csv"
    metro = {}
    with open(path, newline="", encoding="utf-8") as file:
        for record in csv.DictReader(file):
            metro[(record["City"].lower(), record["State"])] = float(record["Cost of Living Index"])
    by_state = {}
    for (_, state), index in metro.items():
        by_state.setdefault(state, []).append(index)
    state_mean = {state: np.mean(values) for state, values in by_state.items()}
    cities = [(c or "").lower() for c in rows["location_city"].to_list()]
    states = [s or "" for s in rows["location_state"].to_list()]
    metros = np.array([metro.get((c, s), np.nan) for c, s in zip(cities, states)])
    means = np.array([state_mean.get(s, np.nan) for s in states])
    return sp.csr_matrix(np.column_stack([metros, means])), int(np.isfinite(metros).sum())


def main():
    rows = examples(sys.argv[1])
    y = np.log(rows["pay"].to_numpy())
    base = base_features(rows)
    without_city = base[:2] + base[3:]  # base_features' third part is the place one-hot
    index, with_metro = cost_of_living(rows)
    fold_of = folds(rows)
    datasets = rows["dataset"].to_numpy()
    names = sorted(set(datasets))
    print(f"{len(y)} postings with pay, {with_metro} with a metro cost-of-living index")
    print(f"| place features | R² (log), all | {' | '.join(names)} |")
    print(f"|---|---:|{'---:|' * len(names)}")
    for label, parts in [
        ("base (city and state one-hot)", base),
        ("without the city one-hot", without_city),
        ("without it, with the cost-of-living index", without_city + [index]),
        ("base + the cost-of-living index", base + [index]),
    ]:
        predicted = cross_validated(parts, y, fold_of)
        print(f"| {label} | {r2_cells(y, predicted, datasets)} |", flush=True)


if __name__ == "__main__":
    main()
