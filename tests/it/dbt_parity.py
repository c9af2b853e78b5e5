"""Runs sql-models/ under dbt-core with dbt-duckdb on the same lake rats transformed, and
compares every model dbt persists (tables, incremental models, snapshots: the list comes from
dbt's manifest, so a new model cannot be missed) with rats' Delta table of the same name, row
by row: the same columns, and the same multiset of rows. Views are not stored by rats; they
are compared through the tables built on them.

Tolerances, stated:
- floating-point values are compared after rounding to 9 significant digits (the two engines
  sum and average in different orders);
- rows left unmatched after that are paired when their floats agree within a relative 1e-8 (a
  value on a rounding boundary, such as an average of 89987.01375, rounds either way:
  89987.0137 or 89987.0138);
- a snapshot's run-time columns (dbt_valid_from, dbt_valid_to, dbt_updated_at, dbt_scd_id:
  when each engine ran) are compared only as null or not null.
Everything else must be equal.

Prints one line per model; exits 1 naming each difference with a few differing rows.

    python3 dbt_parity.py LAKE PROJECT WORKDIR
"""
import collections
import datetime
import decimal
import json
import math
import os
import subprocess
import sys

import duckdb
from deltalake import DeltaTable

lake, project, work = (os.path.abspath(a) for a in sys.argv[1:4])
database = os.path.join(work, "dbt.duckdb")
target = os.path.join(work, "target")
env = dict(os.environ, RATS_LAKE=os.path.abspath(lake), RATS_DBT_DUCKDB=database)
run = subprocess.run(
    ["dbt", "build", "--project-dir", project, "--profiles-dir", project,
     "--target-path", target, "--log-path", os.path.join(work, "logs")],
    cwd=work, env=env, capture_output=True, text=True)
if run.returncode != 0:
    print(run.stdout[-4000:], run.stderr[-2000:])
    sys.exit(f"dbt build failed (exit {run.returncode})")

SNAPSHOT_TIMES = {"dbt_valid_from", "dbt_valid_to", "dbt_updated_at", "dbt_scd_id"}


def persisted_models():
    """(name, relation) of every model and snapshot dbt stored as a table."""
    manifest = json.load(open(os.path.join(target, "manifest.json")))
    models = []
    for node in manifest["nodes"].values():
        if node["resource_type"] not in ("model", "snapshot"):
            continue
        if node["config"]["materialized"] in ("view", "ephemeral"):
            continue
        models.append((node["alias"] or node["name"], node["relation_name"]))
    return sorted(models)


def normalised(value, column):
    """A value both engines agree on when their results are the same."""
    if column in SNAPSHOT_TIMES:
        return value is not None
    if isinstance(value, (float, decimal.Decimal)):
        return float(f"{float(value):.9g}")
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return tuple(normalised(v, None) for v in value)
    return str(value)


def rows(connection, relation, columns):
    select = ", ".join(f'"{c}"' for c in columns)
    return collections.Counter(
        tuple(normalised(v, c) for v, c in zip(row, columns))
        for row in connection.execute(f"SELECT {select} FROM {relation}").fetchall())


def same_but_for_rounding(ours, theirs):
    """Rows equal except for floats within a relative 1e-8 of each other."""
    return all(
        a == b or (isinstance(a, float) and isinstance(b, float) and math.isclose(a, b, rel_tol=1e-8))
        for a, b in zip(ours, theirs))


def unpaired(only_rats, only_dbt):
    """The rows of each side that no row of the other side matches but for rounding."""
    ours, theirs = list(only_rats.elements()), list(only_dbt.elements())
    for row in list(ours):
        match = next((other for other in theirs if same_but_for_rounding(row, other)), None)
        if match is not None:
            ours.remove(row)
            theirs.remove(match)
    return collections.Counter(ours), collections.Counter(theirs)


dbt = duckdb.connect(database, read_only=True)
rats = duckdb.connect()
models = persisted_models()
if len(models) < 9:
    sys.exit(f"dbt's manifest lists only {len(models)} persisted models: {models}")
differences = []
for name, relation in models:
    path = os.path.join(lake, "gold", name)
    if not os.path.isdir(path):
        differences.append(f"{name}: dbt builds it, rats wrote no gold/{name}")
        continue
    rats.register(name, DeltaTable(path).to_pyarrow_dataset())
    ours_columns = [d[0] for d in rats.execute(f'SELECT * FROM "{name}" LIMIT 0').description]
    theirs_columns = [d[0] for d in dbt.execute(f"SELECT * FROM {relation} LIMIT 0").description]
    if sorted(ours_columns) != sorted(theirs_columns):
        differences.append(f"{name}: columns differ: rats {sorted(ours_columns)} vs dbt {sorted(theirs_columns)}")
        continue
    ours = rows(rats, f'"{name}"', theirs_columns)
    theirs = rows(dbt, relation, theirs_columns)
    only_rats, only_dbt = unpaired(ours - theirs, theirs - ours)
    print(f"{name}: {sum(ours.values())} rows (rats), {sum(theirs.values())} rows (dbt), "
          f"{sum(only_rats.values())} only in rats, {sum(only_dbt.values())} only in dbt")
    if only_rats or only_dbt:
        sample = lambda counter: [dict(zip(theirs_columns, row)) for row in list(counter)[:3]]
        differences.append(
            f"{name}: {sum(only_rats.values())} row(s) only in rats, {sum(only_dbt.values())} only in dbt\n"
            f"  rats: {sample(only_rats)}\n  dbt:  {sample(only_dbt)}")
if differences:
    sys.exit("\n".join(differences))
