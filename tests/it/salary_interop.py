"""Loads a rats salary model version's mean booster with Python xgboost and predicts the feature
matrix rats built (JSON rows, null for missing), printing the predictions as JSON.

usage: salary_interop.py VERSION_DIR MATRIX_JSON
"""
import json
import sys

import numpy as np
import xgboost

version, matrix_path = sys.argv[1], sys.argv[2]
with open(f"{version}/features.json") as f:
    columns = [c["name"] for c in json.load(f)["columns"]]
with open(matrix_path) as f:
    rows = json.load(f)
matrix = np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=np.float32)
if matrix.shape[1] != len(columns):
    sys.exit(f"matrix has {matrix.shape[1]} columns, features.json names {len(columns)}")
booster = xgboost.Booster(model_file=f"{version}/mean.json")
predictions = booster.predict(xgboost.DMatrix(matrix, missing=np.nan))
json.dump([float(p) for p in predictions], sys.stdout)
