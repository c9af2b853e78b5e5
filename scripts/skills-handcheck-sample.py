"""Draws the skill hand-check sample of docs/skills-handcheck.md: 50 distinct Glassdoor postings
(glassdoor-2020-metros, seed 2026) and every technical skill (not soft, business or domain
knowledge) the gazetteer finds in each
description, with 50 characters of context either side, for a verdict to be added by hand.

Usage: skills-handcheck-sample.py BINARY DATASETS OUT.tsv [SEED EARLIER.tsv...]

With a SEED other than 2026, postings of the EARLIER samples are left out of the draw, so the
new sample holds only postings never looked at before.
"""
import csv, glob, json, os, random, subprocess, sys

rats, datasets, out = sys.argv[1], sys.argv[2], sys.argv[3]
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 2026
earlier = set()
for path in sys.argv[5:]:
    with open(path, newline='', encoding='utf-8') as f:
        earlier.update((r['file'], int(r['line'])) for r in csv.DictReader(f, delimiter='\t'))
# The categories rats counts as not technical (src/skills/taxonomy.rs).
NOT_TECHNICAL = {'soft_skill', 'business', 'domain_knowledge'}
rows = []
for path in sorted(glob.glob(os.path.join(datasets, 'postings/glassdoor-2020-metros/*.csv'))):
    with open(path, newline='', encoding='utf-8') as f:
        for number, row in enumerate(csv.DictReader(f), start=2):
            rows.append((os.path.basename(path), number, row['Job_title'], row['Job_Desc']))
# Descriptions already looked at, wherever else they repeat.
seen = {row[3] for row in rows if (row[0], row[1]) in earlier}
distinct = []
for row in rows:
    if row[3] and row[3] not in seen:
        seen.add(row[3])
        distinct.append(row)
sample = random.Random(seed).sample(distinct, 50)
with open(out, 'w', newline='', encoding='utf-8') as f:
    w = csv.writer(f, delimiter='\t', lineterminator='\n')
    w.writerow(['posting', 'file', 'line', 'title', 'skill_id', 'category', 'surface', 'context', 'verdict'])
    for n, (file, line, title, desc) in enumerate(sample, start=1):
        found = json.loads(subprocess.run([rats, 'skills', 'extract', '--format', 'json', '-'], input=desc,
                                          capture_output=True, text=True, check=True).stdout)
        for m in found:
            if m['category'] in NOT_TECHNICAL:
                continue
            s, e = m['start'], m['end']
            context = (desc[max(0, s - 50):s] + '[[' + desc[s:e] + ']]' + desc[e:e + 50]).replace('\n', ' ').replace('\t', ' ')
            w.writerow([n, file, line, title, m['id'], m['category'], m['surface'], context, ''])
