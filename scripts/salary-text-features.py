"""Measures which text features help a salary model: hashed n-grams of title + description (what
`rats train salary` uses) or sentence embeddings (all-MiniLM-L6-v2, the encoder `rats match`
uses) of the title or of title + description, each added to the same base features, scored by
grouped 5-fold cross-validation R² of log pay.

    python3 scripts/salary-text-features.py LAKE ENCODER_DIR

LAKE is a lake `rats consume` built (its silver postings with pay stated or estimated by the
board are the examples); ENCODER_DIR is what scripts/fetch-sentence-encoder prints. Needs the
packages of scripts/salary-harness-requirements.txt.

Why in Python: the question is which features to build into rats, before building them. The
base features, folds and model are `scripts/salary_harness.py`'s. The encoder runs here in numpy
(mean-pooled, L2-normalised, 128 pieces as in `src/matching/embed.rs`), checked against
sentence-transformers' published example before it embeds anything.
"""

import math
import sys

import numpy as np
import scipy.sparse as sp
from safetensors.numpy import load_file
from salary_harness import base_features, cross_validated, examples, folds, r2_cells
from scipy.special import erf
from sklearn.feature_extraction.text import HashingVectorizer
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
        print(f"| {name} | {r2_cells(y, predicted, datasets)} |", flush=True)


if __name__ == "__main__":
    main()
