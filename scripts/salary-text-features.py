"""Measures which text features help a salary model: hashed n-grams of title + description (what
`rats train salary` uses) or sentence embeddings (all-MiniLM-L6-v2, the encoder `rats match`
uses) of the title or of title + description, each added to the same base features, scored by
grouped 5-fold cross-validation R² of log pay.

    python3 scripts/salary-text-features.py LAKE ENCODER_DIR

LAKE is a lake `rats consume` built (its silver postings with pay stated or estimated by the
board are the examples); ENCODER_DIR is what scripts/fetch-sentence-encoder prints. Needs the
packages of scripts/salary-text-features-requirements.txt.

Why in Python: the question is which features to build into rats, before building them. The
harness is XGBoost with `rats train salary`'s depth-6 settings on a simpler base than rats' (title
words, place, seniority, years, work mode, job type, education, company size, industry; no
cost-of-living index, title families or skills), folds grouped as rats groups them (company,
else title and place). Its figures compare feature sets with each other, not with the salary
report's. The encoder runs here in numpy (mean-pooled, L2-normalised, 128 pieces as in
`src/matching/embed.rs`), checked against sentence-transformers' published example before it
embeds anything.
"""

import math
import sys

import numpy as np
import polars as pl
import scipy.sparse as sp
import xgboost as xgb
from safetensors.numpy import load_file
from scipy.special import erf
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer
from sklearn.metrics import r2_score
from tokenizers import Tokenizer

MAX_PIECES = 128


class MiniLM:
    """The 6-layer BERT of all-MiniLM-L6-v2 as HF's BertModel computes it, in float32."""

    def __init__(self, folder):
        self.w = load_file(f"{folder}/model.safetensors")
        self.tokenizer = Tokenizer.from_file(f"{folder}/tokenizer.json")
        self.tokenizer.enable_truncation(MAX_PIECES)
        self.tokenizer.enable_padding()

    def norm(self, x, name):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * self.w[f"{name}.weight"] + self.w[f"{name}.bias"]

    def linear(self, x, name):
        return x @ self.w[f"{name}.weight"].T + self.w[f"{name}.bias"]

    def embed(self, texts, batch=32):
        out = []
        for start in range(0, len(texts), batch):
            pieces = self.tokenizer.encode_batch(texts[start : start + batch])
            ids = np.array([p.ids for p in pieces])
            mask = np.array([p.attention_mask for p in pieces], dtype=np.float32)
            rows, length = ids.shape
            x = (
                self.w["embeddings.word_embeddings.weight"][ids]
                + self.w["embeddings.position_embeddings.weight"][:length]
                + self.w["embeddings.token_type_embeddings.weight"][0]
            )
            x = self.norm(x, "embeddings.LayerNorm")
            padding = (1 - mask)[:, None, None, :] * -1e9
            for layer in range(6):
                at = f"encoder.layer.{layer}"

                def heads(y):
                    return y.reshape(rows, length, 12, 32).transpose(0, 2, 1, 3)

                q, k, v = (heads(self.linear(x, f"{at}.attention.self.{n}")) for n in ("query", "key", "value"))
                scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(32) + padding
                scores = np.exp(scores - scores.max(-1, keepdims=True))
                scores /= scores.sum(-1, keepdims=True)
                context = (scores @ v).transpose(0, 2, 1, 3).reshape(rows, length, 384)
                x = self.norm(x + self.linear(context, f"{at}.attention.output.dense"), f"{at}.attention.output.LayerNorm")
                hidden = self.linear(x, f"{at}.intermediate.dense")
                hidden = 0.5 * hidden * (1 + erf(hidden / math.sqrt(2)))
                x = self.norm(x + self.linear(hidden, f"{at}.output.dense"), f"{at}.output.LayerNorm")
            pooled = (x * mask[..., None]).sum(1) / np.clip(mask.sum(1, keepdims=True), 1e-9, None)
            out.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
        return np.vstack(out)


def checked_encoder(folder):
    """The encoder, refused unless it gives sentence-transformers' documented similarity of its
    example pair (0.7553 for all-MiniLM-L6-v2)."""
    encoder = MiniLM(folder)
    a, b = encoder.embed(["A man is eating food.", "A man is eating a piece of bread."])
    similarity = float(a @ b)
    if abs(similarity - 0.7553) > 0.001:
        sys.exit(f"salary-text-features: the encoder gives {similarity:.4f} for the example pair, not 0.7553")
    return encoder


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


def main():
    lake, encoder_dir = sys.argv[1:3]
    encoder = checked_encoder(encoder_dir)
    rows = examples(lake)
    y = np.log(rows["pay"].to_numpy())
    fold_of = folds(rows)
    titles = rows["title"].to_list()
    with_text = [f"{t}\n{d}" for t, d in zip(titles, rows["description"].to_list())]
    hashed = HashingVectorizer(n_features=256, ngram_range=(1, 2), alternate_sign=False, norm=None)
    text = {
        "none": [],
        "hashed n-grams of title + description (256, ln(1 + count))": [sp.csr_matrix(np.log1p(hashed.transform(with_text).toarray()))],
        "MiniLM of the title (384)": [sp.csr_matrix(encoder.embed(titles))],
        "MiniLM of title + description (384)": [sp.csr_matrix(encoder.embed(with_text))],
    }
    base = base_features(rows)
    datasets = rows["dataset"].to_numpy()
    names = sorted(set(datasets))
    print(f"{len(y)} postings with pay in {lake}, {fold_of.max() + 1} grouped folds")
    print(f"| text features added to the base | R² (log), all | {' | '.join(names)} |")
    print(f"|---|---:|{'---:|' * len(names)}")
    for name, parts in text.items():
        predicted = cross_validated(base + parts, y, fold_of)
        per_dataset = [f"{r2_score(y[datasets == d], predicted[datasets == d]):.3f}" for d in names]
        print(f"| {name} | {r2_score(y, predicted):.3f} | {' | '.join(per_dataset)} |", flush=True)


if __name__ == "__main__":
    main()
