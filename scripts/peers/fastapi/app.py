"""The Python peer of `rats serve`'s salary route, for the side-by-side benchmark only.

A FastAPI + uvicorn app, as the seed's stack would have served the model: it loads the same
salary model files rats trained (`mean.json`, `quantiles.json`, `features.json`,
`calibration.json` of one registry version) into Python `xgboost`, builds the same feature row
from the same request body, and answers `POST /v1/predict/salary` with the estimate, the
calibrated 80 % interval and the top SHAP contributions rolled up into groups, as rats does.

What it ports from rats (src/normalize, src/ml/features.rs, src/ml/occupation.rs,
src/ml/explain.rs): title cleanup, seniority from the title or the stated level, years of
experience from the description, the place (taxonomies/locations.yaml), work mode, the title
family by TF-IDF over the model's ESCO occupations, cost of living, the hashed title and
description n-grams, the mean and quantile boosters, the conformal offset and the grouped
contributions. What it simplifies: skills in the title and description are found by whole-word
matching of the taxonomy's names and aliases (rats' gazetteer also checks case rules and the
context of ambiguous names), education is not read from the description, and contributions are
labelled by group id only. `scripts/bench-serve --peer fastapi` checks that both servers give
the same estimate for every request it sends before timing them.

Each request's API key is looked up in rats' own accounts database (SQLite), as rats looks it
up, so revoking a key or disabling its user takes effect at once in both.

Environment: RATS_PEER_MODEL (a salary version directory), RATS_PEER_TAXONOMIES (rats'
taxonomies/), RATS_PEER_DB (the accounts SQLite file `rats serve --db sqlite://…` uses).
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import json
import math
import os
import re
import sqlite3
import time
from pathlib import Path

# One OpenMP thread per worker process before XGBoost loads: uvicorn runs a worker per core, each
# answering one request at a time, and XGBoost's default of a thread per core in every worker
# oversubscribed the two cores (16 connections: 96 requests/s instead of 341, measured).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import xgboost as xgb  # noqa: E402
import yaml  # noqa: E402
from fastapi import FastAPI, Request  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402

MODEL_DIR = Path(os.environ["RATS_PEER_MODEL"])
TAXONOMIES = Path(os.environ["RATS_PEER_TAXONOMIES"])
ACCOUNTS = sqlite3.connect(f"file:{os.environ['RATS_PEER_DB']}?mode=ro", uri=True, check_same_thread=False)

SENIORITY = ["intern", "entry", "mid", "senior", "lead", "manager", "director", "executive"]
EDUCATION = ["high_school", "associate", "bachelor", "master", "doctorate"]
SIZE_BANDS = ["1-10", "11-50", "51-200", "201-1000", "1001-5000", "5001-10000", "10001+"]
REMOTE = ["remote", "hybrid", "on-site"]
JOB_TYPES = ["fulltime", "parttime", "contract", "internship", "temporary"]
MIN_FAMILY_SCORE = 0.3
CACHE_ENTRIES = 10_000
CACHE_TTL_SECONDS = 600


# --- text, as src/ml/features.rs -------------------------------------------------------------

TOKEN_SPLIT = re.compile(r"[^\w+#.]|_")


def tokens(text: str) -> list[str]:
    out = []
    for token in TOKEN_SPLIT.split(text):
        token = token.strip(".").lower()
        if any(c.isalnum() for c in token):
            out.append(token)
    return out


def word_ngrams(words: list[str]) -> list[str]:
    return [f"{a} {b}" for a, b in zip(words, words[1:])] + words


def title_terms(title: str) -> set[str]:
    return set(word_ngrams(tokens(title)))


def fnv1a(text: str) -> int:
    h = 0xCBF29CE484222325
    for byte in text.encode():
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


# --- normalising, as src/normalize ----------------------------------------------------------

WORK_MODE_NOISE = re.compile(
    r"\s*[(\[]\s*(remote|hybrid|on-?site|in-?office)[^)\]]*[)\]]|\s+[-–|]\s*(remote|hybrid|on-?site)\s*$", re.I
)
WORK_MODE = re.compile(r"\b(fully remote|remote|hybrid|on-?site|in[- ]office|work from home|wfh|anywhere)\b", re.I)
PARENTHESES = re.compile(r"\([^)]*\)|\[[^\]]*\]")
ZIP = re.compile(r"\s+\d{5}(?:-\d{4})?$")
YEARS = re.compile(
    r"\b(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen)\s*\+?\s*"
    r"(?:(?:-|–|to)\s*(\d{1,2})\s*\+?\s*)?(?:\(\d{1,2}\)\s*)?(?:years?|yrs?)\b(.{0,60})",
    re.I | re.S,
)
NUMBER_WORDS = dict(one=1, two=2, three=3, four=4, five=5, six=6, seven=7, eight=8, nine=9, ten=10, twelve=12, fifteen=15)
LEVELS = {
    **dict.fromkeys(["intern", "internship"], "intern"),
    **dict.fromkeys(["entry", "en", "junior", "associate", "entry-level"], "entry"),
    **dict.fromkeys(["mid", "mi", "mid-level", "intermediate", "mid-senior"], "mid"),
    **dict.fromkeys(["senior", "se"], "senior"),
    **dict.fromkeys(["lead", "principal", "staff"], "lead"),
    "manager": "manager",
    "director": "director",
    **dict.fromkeys(["executive", "ex", "c-level"], "executive"),
}
TITLE_LEVELS = [
    ("executive", {"chief", "ceo", "cto", "cfo", "coo", "cmo", "cio", "ciso", "cdo", "evp", "svp", "president"}),
    ("director", {"director", "vp", "head"}),
    ("manager", {"manager", "mgr"}),
    ("lead", {"lead", "principal", "staff", "architect"}),
    ("senior", {"senior", "sr", "iii", "iv", "expert"}),
    ("intern", {"intern", "internship", "trainee", "apprentice", "co-op"}),
    ("entry", {"junior", "jr", "entry", "graduate", "i"}),
    ("mid", {"ii", "intermediate", "mid"}),
]


def clean_title(raw: str) -> str:
    single_line = " ".join(raw.split())
    return WORK_MODE_NOISE.sub("", single_line).strip(" \t\n-–|,*")


def seniority_of(title: str, level: str | None) -> str | None:
    if level:
        found = LEVELS.get(level.strip().lower().removesuffix(" level"))
        if found:
            return found
    words = [w.lower() for w in re.split(r"[^\w]|_", title) if w]
    if "vice president" in " ".join(words):
        return "executive"
    for name, options in TITLE_LEVELS:
        if any(w in options for w in words):
            return name
    return None


def min_years_experience(description: str) -> int | None:
    best = None
    for m in YEARS.finditer(description):
        before = description[max(0, m.start() - 40) : m.start()]
        context = f"{before} {m.group(3)}".lower()
        if not ("experience" in context or "exp." in context or "background in" in context):
            continue
        word = m.group(1)
        low = int(word) if word.isdigit() else NUMBER_WORDS.get(word.lower())
        if low is None or low == 0 or low > 30:
            continue
        best = low if best is None else max(best, low)
    return best


def work_mode(text: str) -> str | None:
    found = None
    for m in WORK_MODE.finditer(text):
        word = m.group(0).lower()
        mode = "hybrid" if word == "hybrid" else "on-site" if word.startswith(("on", "in")) else "remote"
        if found == "hybrid" or mode == "hybrid":
            found = "hybrid"
        elif found is None:
            found = mode
    return found


class Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 booleans, as rats' reader has them: only true and false (Norway's NO is a code)."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def read_yaml(path: Path):
    return yaml.load(path.read_text(), Loader=Yaml12Loader)


class Places:
    """taxonomies/locations.yaml, read as src/normalize/location.rs reads it."""

    def __init__(self, path: Path):
        taxonomy = read_yaml(path)
        self.countries, self.country_codes = {}, {}
        for c in taxonomy["countries"]:
            self.country_codes[c["code"].lower()] = c["code"]
            self.countries[c["name"].lower()] = c["code"]
            for alias in c["aliases"]:
                self.countries[alias.lower()] = c["code"]
        self.states = {name.lower(): code for code, name in taxonomy["us_states"].items()}
        self.state_codes = {code.lower(): code for code in taxonomy["us_states"]}
        self.cities = {k.lower(): v for k, v in taxonomy["city_aliases"].items()}

    def parse(self, raw: str) -> tuple[str | None, str | None, str | None, str | None]:
        """(city, state, country, work mode)."""
        remote = work_mode(raw)
        text = WORK_MODE.sub(" ", PARENTHESES.sub(" ", raw))
        parts = [ZIP.sub("", p.strip().strip("-– \t\n")).strip() for p in re.split(r"[,|;/]", text)]
        parts = [p for p in parts if p]
        city = state = country = None
        single = len(parts) == 1
        if parts:
            key = parts[-1].lower()
            code = self.countries.get(key)
            if code is None and (single or key not in self.state_codes):
                code = self.country_codes.get(key)
            if code and not (single and key in self.states):
                country = code
                parts.pop()
        if country and len(parts) == 1:
            key = parts[0].lower()
            if (self.countries.get(key) or self.country_codes.get(key)) == country:
                parts.clear()
        if parts:
            key = parts[-1].lower()
            code = self.state_codes.get(key) or self.states.get(key)
            if code:
                state = code
                country = country or "US"
                parts.pop()
        if parts:
            alias = self.cities.get(parts[0].lower())
            if alias:
                city = alias[0]
                state = state or (alias[1] or None)
                country = country or alias[2]
            else:
                city = parts[0]
        return city, state, country, remote


class Skills:
    """Taxonomy names and aliases matched as whole words in any case, `exact_case` forms in
    their case, ambiguous names never (rats' gazetteer takes those in technical context)."""

    def __init__(self, path: Path):
        taxonomy = read_yaml(path)
        self.ids, self.by_name, plain, exact = set(), {}, {}, {}
        for skill in taxonomy["skills"]:
            self.ids.add(skill["id"])
            unsafe = {f.lower() for f in skill.get("ambiguous", []) + skill.get("exact_case", [])}
            for form in [skill["name"], *skill.get("aliases", [])]:
                self.by_name[form.lower()] = skill["id"]
                if form.lower() not in unsafe:
                    plain[form.lower()] = skill["id"]
            for form in skill.get("exact_case", []):
                self.by_name[form.lstrip("!").lower()] = skill["id"]
                exact[form.lstrip("!")] = skill["id"]
        self.plain, self.exact = plain, exact
        self.plain_pattern = self.pattern(plain, re.I)
        self.exact_pattern = self.pattern(exact, 0)

    @staticmethod
    def pattern(spellings: dict, flags: int) -> re.Pattern:
        alternatives = "|".join(re.escape(s) for s in sorted(spellings, key=len, reverse=True))
        return re.compile(rf"(?<![\w+#.])(?:{alternatives})(?![\w+#])", flags)

    def resolve(self, given: str) -> str | None:
        wanted = given.strip().lower()
        return wanted if wanted in self.ids else self.by_name.get(wanted)

    def find(self, text: str) -> list[str]:
        found = [self.plain[m.group(0).lower()] for m in self.plain_pattern.finditer(text)]
        return found + [self.exact[m.group(0)] for m in self.exact_pattern.finditer(text)]


class Occupations:
    """Title → ESCO occupation by TF-IDF, as src/ml/occupation.rs, scored with numpy."""

    def __init__(self, occupations: list[dict]):
        self.uris = [o["uri"] for o in occupations]
        term_lists = [self.terms(f"{o['labels']} {o['name']}") for o in occupations]
        df = collections.Counter(t for terms in term_lists for t in set(terms))
        n = len(occupations)
        self.idf = {t: math.log(n / d) + 1.0 for t, d in df.items()}
        lists = collections.defaultdict(lambda: ([], []))
        for i, terms in enumerate(term_lists):
            for term, weight in self.weighted(terms):
                lists[term][0].append(i)
                lists[term][1].append(weight)
        self.postings = {t: (np.array(ids, dtype=np.int32), np.array(ws, dtype=np.float32)) for t, (ids, ws) in lists.items()}

    @staticmethod
    def terms(text: str) -> list[str]:
        words = tokens(text)
        out = word_ngrams(words)
        for word in words:
            marked = f"<{word}>"
            out.extend("#" + marked[i : i + 3] for i in range(len(marked) - 2))
        return out

    def weighted(self, terms: list[str]) -> list[tuple[str, float]]:
        counts = collections.Counter(terms)
        out = sorted((t, (1.0 + math.log(c)) * self.idf[t]) for t, c in counts.items() if t in self.idf)
        norm = math.sqrt(sum(w * w for _, w in out))
        return [(t, w / norm) for t, w in out] if norm > 0 else out

    def family(self, title: str) -> str | None:
        scores = np.zeros(len(self.uris), dtype=np.float32)
        touched = False
        for term, weight in self.weighted(self.terms(title)):
            found = self.postings.get(term)
            if found is not None:
                # An occupation appears once in a term's list, so fancy-index addition is exact.
                scores[found[0]] += np.float32(weight) * found[1]
                touched = True
        if not touched:
            return None
        best = int(np.argmax(scores))  # the first of equal scores: the lowest index, as rats
        return self.uris[best] if scores[best] >= MIN_FAMILY_SCORE else None


# --- the model ------------------------------------------------------------------------------


class SalaryModel:
    def __init__(self, directory: Path):
        self.spec = json.loads((directory / "features.json").read_text())
        calibration = json.loads((directory / "calibration.json").read_text())
        self.offset, self.coverage = calibration["offset"], calibration["nominal_coverage"]
        self.mean = xgb.Booster(model_file=str(directory / "mean.json"))
        self.quantiles = xgb.Booster(model_file=str(directory / "quantiles.json"))
        self.occupations = Occupations(self.spec["occupation_index"])
        groups = [c["group"] for c in self.spec["columns"]]
        self.width = len(groups)
        # Columns summed per group with one bincount; each skill column is its own group.
        self.group_names = list(dict.fromkeys(groups))
        self.group_of_column = np.array([self.group_names.index(g) for g in groups], dtype=np.int32)
        self.version = directory.name
        self.index = {}
        offset = 6
        for prefix, values in [
            ("remote", REMOTE),
            ("job_type", JOB_TYPES),
            ("country", self.spec["countries"]),
            ("state", self.spec["states"]),
            ("industry", self.spec["industries"]),
            ("occupation", self.spec["occupations"]),
            ("title", self.spec["title_words"]),
            ("skill", self.spec["skills"]),
        ]:
            self.index[prefix] = {v: offset + i for i, v in enumerate(values)}
            offset += len(values)
        self.text_start, self.buckets = offset, self.spec["options"]["text_buckets"]
        # What an indicator or n-gram bucket the posting lacks holds: NaN ("missing") in specs
        # rats writes now, 0 in older ones (features.rs, `Absent`).
        self.absent_is_missing = self.spec.get("absent", "zero") == "missing"

    def row(self, f: dict) -> np.ndarray:
        x = np.full(self.width, np.nan, dtype=np.float32)
        x[6 : self.text_start + self.buckets] = 0.0
        x[0] = SENIORITY.index(f["seniority"]) if f["seniority"] in SENIORITY else np.nan
        x[1] = f["years"] if f["years"] is not None else np.nan
        state, city = f["state"] or "", f["city"] or ""
        x[4] = self.spec["cost_of_living"].get(f"{city.lower()}|{state.upper()}", np.nan)
        x[5] = self.spec["state_cost_of_living"].get(state, np.nan)
        for prefix, value in [
            ("remote", f["remote"]),
            ("country", f["country"]),
            ("state", f["state"]),
            ("occupation", f["occupation"]),
        ]:
            column = self.index[prefix].get(value)
            if column is not None:
                x[column] = 1.0
        for term in title_terms(f["title"]):
            column = self.index["title"].get(term)
            if column is not None:
                x[column] = 1.0
        for skill in f["skill_ids"]:
            column = self.index["skill"].get(skill)
            if column is not None:
                x[column] = 1.0
        if self.buckets:
            counts = np.zeros(self.buckets, dtype=np.float32)
            for term in word_ngrams(tokens(f"{f['title']} {f['description'] or ''}")):
                counts[fnv1a(term) % self.buckets] += 1.0
            x[self.text_start :] = np.log1p(counts)
        if self.absent_is_missing:
            indicators = x[6:]
            indicators[indicators == 0.0] = np.nan
        return x

    def predict(self, facts: list[dict], top: int) -> list[dict]:
        matrix = xgb.DMatrix(np.stack([self.row(f) for f in facts]), missing=np.nan)
        mean = self.mean.predict(matrix)
        levels = self.quantiles.predict(matrix)
        contributions = self.mean.predict(matrix, pred_contribs=True) if top > 0 else None
        answers = []
        for i, f in enumerate(facts):
            log_estimate = float(mean[i])
            low = min(float(levels[i][0]) - self.offset, log_estimate)
            high = max(float(levels[i][-1]) + self.offset, log_estimate)
            estimate = math.exp(log_estimate)
            explained = self.explain(contributions[i], f, estimate, top) if contributions is not None else []
            answers.append(
                {
                    "estimate": estimate,
                    "low": math.exp(low),
                    "high": math.exp(high),
                    "currency": "USD",
                    "period": "year",
                    "interval_coverage": self.coverage,
                    "contributions": explained,
                    "title": f["title"],
                    "skill_ids": f["skill_ids"],
                }
            )
        return answers

    def explain(self, contributions: np.ndarray, f: dict, estimate: float, top: int) -> list[dict]:
        """The `top` groups' SHAP sums in dollars, largest first (src/ml/explain.rs)."""
        sums = np.bincount(self.group_of_column, weights=contributions[: self.width], minlength=len(self.group_names))
        groups: dict[str, float] = collections.defaultdict(float)
        for group, value in zip(self.group_names, sums.tolist()):
            if group.startswith("skill:") and group[6:] not in f["skill_ids"]:
                group = "skills not mentioned"
            groups[group] += value
        ranked = sorted(
            ((g, e) for g, e in groups.items() if abs(e) > 1e-6),
            key=lambda ge: (-abs(estimate * (1.0 - math.exp(-ge[1]))), ge[0]),
        )
        return [{"label": g, "group": g, "usd": estimate * (1.0 - math.exp(-e)), "log_effect": e} for g, e in ranked[:top]]


MODEL = SalaryModel(MODEL_DIR)
PLACES = Places(TAXONOMIES / "locations.yaml")
SKILLS = Skills(TAXONOMIES / "skills.yaml")
CACHE: collections.OrderedDict[str, tuple[float, dict]] = collections.OrderedDict()
app = FastAPI()


class Invalid(Exception):
    def __init__(self, field: str, message: str):
        self.field, self.message = field, message


def facts_of(posting: dict) -> dict:
    title = clean_title(str(posting.get("title") or ""))
    if not title:
        raise Invalid("title", "give the posting's title")
    description = posting.get("description")
    city, state, country, remote = PLACES.parse(posting["location"]) if posting.get("location") else (None,) * 4
    skill_ids = []
    for skill in SKILLS.find(title) + (SKILLS.find(description) if description else []):
        if skill not in skill_ids:
            skill_ids.append(skill)
    for given in posting.get("skills") or []:
        skill = SKILLS.resolve(given)
        if skill is None:
            raise Invalid("skills", f"{given!r} is not a skill of the taxonomy")
        if skill not in skill_ids:
            skill_ids.append(skill)
    years = posting.get("years_experience")
    if years is None and description:
        years = min_years_experience(description)
    return {
        "title": title,
        "description": description,
        "seniority": seniority_of(title, posting.get("seniority")),
        "years": years,
        "city": city,
        "state": state,
        "country": country,
        "remote": (work_mode(posting["remote"]) if posting.get("remote") else None) or remote or work_mode(str(posting["title"])),
        "skill_ids": skill_ids,
        "occupation": MODEL.occupations.family(title),
    }


def key_is_valid(authorization: str) -> bool:
    """A live key of an active user (src/accounts/keys.rs `user_of_key`)."""
    presented = authorization.removeprefix("Bearer ")
    prefix, _, secret = presented.removeprefix("rats_").partition("_")
    if not presented.startswith("rats_") or not secret:
        return False
    row = ACCOUNTS.execute(
        "SELECT k.secret_digest, k.revoked_at, u.disabled_at FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.prefix = ?",
        (prefix,),
    ).fetchone()
    if row is None or row[1] is not None or row[2] is not None:
        return False
    return hmac.compare_digest(row[0], hashlib.sha256(presented.encode()).hexdigest())


@app.post("/v1/predict/salary")
async def predict(request: Request, top: int = 5):
    if not key_is_valid(request.headers.get("authorization", "")):
        return JSONResponse({"title": "unauthorized"}, status_code=401)
    body = await request.json()
    key = f"{MODEL.version}|{top}|{json.dumps(body, sort_keys=True)}"
    cached = CACHE.get(key)
    if cached and time.monotonic() - cached[0] < CACHE_TTL_SECONDS:
        CACHE.move_to_end(key)
        return cached[1]
    postings = body["postings"] if "postings" in body else [body]
    try:
        facts = [facts_of(p) for p in postings]
    except Invalid as e:
        return JSONResponse({"field": e.field, "detail": e.message}, status_code=422)
    answers = MODEL.predict(facts, top)
    model = {"kind": "salary", "version": MODEL.version}
    answer = {"model": model, "predictions": answers} if "postings" in body else {**answers[0], "model": model}
    CACHE[key] = (time.monotonic(), answer)
    if len(CACHE) > CACHE_ENTRIES:
        CACHE.popitem(last=False)
    return answer


@app.get("/health")
async def health():
    return {"status": "ok"}
