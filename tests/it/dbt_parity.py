"""Runs sql-models/ under dbt-core with dbt-duckdb on the same lake rats transformed, and
compares every mart: row count and key aggregates. Prints one line per mart; exits 1 naming
each difference.

    python3 dbt_parity.py LAKE PROJECT WORKDIR
"""
import math
import os
import subprocess
import sys

import duckdb
from deltalake import DeltaTable

lake, project, work = sys.argv[1], sys.argv[2], sys.argv[3]
database = os.path.join(work, "dbt.duckdb")
env = dict(os.environ, RATS_LAKE=os.path.abspath(lake), RATS_DBT_DUCKDB=database)
run = subprocess.run(
    ["dbt", "build", "--project-dir", project, "--profiles-dir", project,
     "--target-path", os.path.join(work, "target"), "--log-path", os.path.join(work, "logs")],
    cwd=work, env=env, capture_output=True, text=True)
if run.returncode != 0:
    print(run.stdout[-4000:], run.stderr[-2000:])
    sys.exit(f"dbt build failed (exit {run.returncode})")

# mart -> aggregate expressions compared between the two engines
MARTS = {
    "fct_postings": ["COUNT(*)", "SUM(salary_mid_usd)", "COUNT(DISTINCT company_key)", "COUNT(DISTINCT location_key)"],
    # A snapshot: versions and current versions (its timestamps are each engine's run time).
    "dim_company": ["COUNT(*)", "COUNT(*) FILTER (WHERE dbt_valid_to IS NULL)", "COUNT(DISTINCT company_key)", "COUNT(company_size_band)"],
    "dim_location": ["COUNT(*)", "SUM(postings)"],
    "posting_history": ["COUNT(*)", "SUM(repost_count)", "COUNT(last_seen)", "MIN(first_seen)", "MAX(last_seen)"],
    "agg_salary_by_title_location": ["COUNT(*)", "SUM(postings)", "SUM(salary_mid_usd_median)"],
    "agg_company_hiring": ["COUNT(*)", "SUM(postings)", "SUM(distinct_titles)"],
    "dim_skill": ["COUNT(*)", "SUM(postings)", "COUNT(*) FILTER (WHERE is_technical)", "COUNT(DISTINCT category)"],
    "fct_posting_skills": ["COUNT(*)", "COUNT(DISTINCT posting_key)", "COUNT(DISTINCT skill_id)", "SUM(salary_mid_usd)"],
    "agg_skill_demand_weekly": ["COUNT(*)", "SUM(postings_with_skill)", "SUM(share_pct)", "COUNT(DISTINCT iso_week)"],
}

dbt = duckdb.connect(database, read_only=True)
rats = duckdb.connect()
differences = []
for mart, aggregates in MARTS.items():
    rats.register(mart, DeltaTable(os.path.join(lake, "gold", mart)).to_pyarrow_dataset())
    query = f"SELECT {', '.join(aggregates)} FROM {mart}"
    ours = rats.execute(query).fetchall()[0]
    theirs = dbt.execute(query).fetchall()[0]
    print(mart, dict(zip(aggregates, ours)))
    for name, a, b in zip(aggregates, ours, theirs):
        same = a == b or (isinstance(a, float) and isinstance(b, float) and math.isclose(a, b, rel_tol=1e-9))
        if not same:
            differences.append(f"{mart} {name}: rats {a} vs dbt {b}")
if differences:
    sys.exit("\n".join(differences))
