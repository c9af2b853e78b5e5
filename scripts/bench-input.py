"""Writes N contract JSON lines resampled from the real postings, for benchmarks.

Each pass over the source rows gets its own company suffix and ids, so the duplicate
structure of the real data repeats per pass instead of collapsing N records into a few
thousand postings. Usage: bench-input.py DATASETS N OUT.jsonl
"""
import csv
import json
import sys


def rows(datasets):
    postings = f"{datasets}/postings"
    for metro in ("NY", "SF", "TX", "WA"):
        for r in csv.DictReader(open(f"{postings}/glassdoor-2020-metros/Data_Job_{metro}.csv", encoding="utf-8")):
            yield {"site": "glassdoor", "title": r["Job_title"], "company": r["Company"], "location": f"{r['City']}, {r['State']}",
                   "description": r["Job_Desc"], "date_posted": r["Date_Posted"], "min": r["Min_Salary"], "max": r["Max_Salary"]}
    for r in csv.DictReader(open(f"{postings}/linkedin-richmond/linkedin_jobs.csv", encoding="utf-8")):
        yield {"site": "linkedin", "title": r["title"], "company": r["company"], "location": r["location"],
               "description": r["description"], "date_posted": r["date"], "min": "", "max": ""}
    for r in csv.DictReader(open(f"{postings}/nyc-jobs/NYC_Jobs.csv", encoding="utf-8")):
        yield {"site": "nyc-jobs", "title": r["Business Title"], "company": r["Agency"], "location": "New York, NY",
               "description": r["Job Description"], "date_posted": r["Posting Date"], "min": r["Salary Range From"], "max": r["Salary Range To"]}


def amount(text):
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value > 0 else None


def main(datasets, n, out):
    source = list(rows(datasets))
    with open(out, "w", encoding="utf-8") as f:
        for i in range(n):
            r = source[i % len(source)]
            rnd = i // len(source)
            record = {
                "job_id": f"bench-{i // 2}" if i % 50 == 1 else f"bench-{i}",
                "site": r["site"],
                "job": {"title": r["title"], "company": f"{r['company']} {rnd}", "location": r["location"],
                        "description": r["description"], "date_posted": r["date_posted"]},
                "compensation": {"interval": "yearly", "min_amount": amount(r["min"]), "max_amount": amount(r["max"]), "currency": "USD"},
            }
            f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
