"""Helpers of `scripts/bench-serve --peer fastapi`.

  bench.py bodies BASE KEY N OUT   N distinct salary requests, one JSON body per line, made from
                                   the postings rats serves (title, place, up to three skills) and
                                   a number of years, so no two repeat and neither server's
                                   prediction cache can answer them
  bench.py parity KEY BODIES URL…  sends each body to every URL and counts the answers whose
                                   estimate and interval differ (relative 1e-9); exits 1 when any
                                   request is refused or more than 1 % differ
"""

import json
import sys
import urllib.request


def call(url: str, key: str, body: bytes | None = None):
    request = urllib.request.Request(url, data=body, headers={"authorization": f"Bearer {key}", "content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.load(answer)


def bodies(base: str, key: str, n: int, out: str) -> None:
    postings, cursor = [], None
    while len(postings) < 8000:
        page = call(f"{base}/v1/jobs?limit=200" + (f"&cursor={cursor}" if cursor else ""), key)
        postings += page["jobs"]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    seen, lines = set(), []
    # Which of a posting's skills a request names: the first three, then other windows, so a
    # fast server's run gets as many distinct requests as it can answer.
    for first, last in ((0, 3), (1, 4), (2, 5), (0, 2), (0, 1), (1, 3), (3, 6), (2, 4)):
        for years in range(31):
            for job in postings:
                region = job.get("location_state") or job.get("location_country")
                place = ", ".join(p for p in (job.get("location_city"), region) if p)
                skills = (job.get("skill_ids") or [])[first:last]
                body = {"title": job["title"], "skills": skills, "years_experience": years}
                if place:
                    body["location"] = place
                line = json.dumps(body)
                if line not in seen:
                    seen.add(line)
                    lines.append(line)
                if len(lines) == n:
                    break
            if len(lines) == n:
                break
        if len(lines) == n:
            break
    if len(lines) < n:
        sys.exit(f"bench.py: only {len(lines)} distinct requests from {len(postings)} postings, {n} asked")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


def parity(key: str, path: str, urls: list[str]) -> None:
    same = differ = 0
    example = None
    for line in open(path):
        answers = [call(url, key, line.encode()) for url in urls]
        first = answers[0]
        if all(
            all(abs(a[f] - first[f]) <= 1e-9 * abs(first[f]) for f in ("estimate", "low", "high"))
            for a in answers[1:]
        ):
            same += 1
        else:
            differ += 1
            example = example or (line.strip(), [(a["estimate"], a["skill_ids"]) for a in answers])
    print(f"parity: {same} of {same + differ} requests answered with the same estimate and interval by {len(urls)} servers")
    if example:
        print(f"  first difference: {example[0]} -> {example[1]}")
    if differ > (same + differ) / 100:
        sys.exit(1)


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "bodies":
        bodies(args[0], args[1], int(args[2]), args[3])
    elif command == "parity":
        parity(args[0], args[1], args[2:])
    else:
        sys.exit(__doc__)
