"""Reads a rats lake with Python deltalake and DuckDB; prints what it saw as JSON.

Used by tests/it/interop.rs to prove the tables are readable by other tools.
"""
import json
import os
import sys

import duckdb
import pyarrow.parquet as pq
from deltalake import DeltaTable

TABLES = ["bronze/postings", "silver/postings", "silver/duplicates", "quarantine/postings"]


def column_encodings(table: DeltaTable) -> dict:
    """Per column, the codecs of its chunks in every data file and whether any has a dictionary."""
    seen = {}
    for uri in table.file_uris():
        metadata = pq.ParquetFile(uri.removeprefix("file://")).metadata
        for group in range(metadata.num_row_groups):
            for column in range(metadata.num_columns):
                chunk = metadata.row_group(group).column(column)
                entry = seen.setdefault(chunk.path_in_schema, {"codecs": set(), "dictionary": False})
                entry["codecs"].add(chunk.compression)
                entry["dictionary"] |= chunk.has_dictionary_page
    return {name: {"codecs": sorted(e["codecs"]), "dictionary": e["dictionary"]} for name, e in seen.items()}


def main(lake: str) -> None:
    report = {}
    for name in TABLES:
        table = DeltaTable(os.path.join(lake, name))
        arrow = table.to_pyarrow_table()
        dataset = table.to_pyarrow_dataset()
        duckdb_rows = duckdb.sql("select count(*) from dataset").fetchall()[0][0]
        report[name] = {
            "deltalake_rows": arrow.num_rows,
            "duckdb_rows": duckdb_rows,
            "columns": arrow.column_names,
            "partition_columns": table.metadata().partition_columns,
            "encoding": column_encodings(table),
        }
    silver = DeltaTable(os.path.join(lake, "silver/postings")).to_pyarrow_dataset()
    rows = duckdb.sql(
        "select salary_currency, count(*) from silver where salary_currency is not null group by 1"
    ).fetchall()
    report["salary_by_currency"] = {currency: count for currency, count in rows}
    sys.stdout.write(json.dumps(report))
    sys.stdout.flush()
    # DuckDB's and deltalake's native threads can abort the interpreter at shutdown.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1])
