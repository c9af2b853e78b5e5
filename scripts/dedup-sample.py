"""Draws the hand-check samples of docs/dedup.md from a lake built from the shared postings.

Usage: dedup-sample.py LAKE OUT_DIR. Prints both samples; writes near_sample.json (30 detected
near-duplicates) and recall_sample.json (30 pairs with the same company and title) for
verdicts to be added by hand.
"""
import os, random, json, sys
from collections import defaultdict
from deltalake import DeltaTable
LAKE, OUT = sys.argv[1], sys.argv[2]
s = DeltaTable(LAKE + '/silver/postings').to_pyarrow_table().to_pylist()
d = DeltaTable(LAKE + '/silver/duplicates').to_pyarrow_table().to_pylist()
b = DeltaTable(LAKE + '/bronze/postings').to_pyarrow_table().to_pylist()
raw = {(r['source_file'], r['source_record']): json.loads(r['raw']) for r in b}
by_key = {r['posting_key']: r for r in s}
def title_of(r):
    return r.get('Job_title') or r.get('title') or r.get('Job Title') or r.get('Business Title') or r.get('Job Role') or ''
def company_of(r):
    return (r.get('Company') or r.get('company') or r.get('Company Name') or r.get('Agency') or '').split('\n')[0]
def desc_of(r):
    return (r.get('Job_Desc') or r.get('description') or r.get('Job Description') or '')
random.seed(7)
near = [x for x in d if x['match_kind'] == 'near']
sample = random.sample(near, 30)
rows = []
for x in sample:
    k = by_key[x['duplicate_of']]
    dup = raw[(x['source_file'], x['source_record'])]
    keep = raw[(k['source_file'], k['source_record'])]
    rows.append({'dup': f"{x['source_file'].split('/')[-1]}:{x['source_record']}", 'kept': f"{k['source_file'].split('/')[-1]}:{k['source_record']}",
                 'similarity': round(x['similarity'], 3), 'company': company_of(keep), 'kept_title': title_of(keep), 'dup_title': title_of(dup)})
json.dump(rows, open(os.path.join(OUT, 'near_sample.json'), 'w'), indent=1)
for i, r in enumerate(rows, 1):
    print(i, r['similarity'], '|', r['company'][:28], '|', r['kept_title'][:70], '||', r['dup_title'][:70])
# recall sample: pairs of records (kept or near-dup, so exact kinds excluded) with the same company
# and the same folded title; judged by reading; recall = flagged true pairs / true pairs.
recs = [(r['source_file'], r['source_record'], r['posting_key'], None) for r in s] + [(x['source_file'], x['source_record'], x['posting_key'], x['duplicate_of']) for x in near]
groups = defaultdict(list)
import re
fold = lambda t: ' '.join(re.findall(r'[a-z0-9]+', t.lower()))
for f, n, key, of in recs:
    rr = raw[(f, n)]
    if not desc_of(rr).strip() or not company_of(rr).strip():
        continue
    groups[(fold(company_of(rr)), fold(title_of(rr)))].append((f, n, key, of))
pairs = []
for g in groups.values():
    for i in range(len(g)):
        for j in range(i + 1, len(g)):
            pairs.append((g[i], g[j]))
random.seed(11)
rs = random.sample(pairs, 30)
out = []
print('--- recall sample from', len(pairs), 'same-company same-title pairs')
for i, (a, c) in enumerate(rs, 1):
    ra, rc = raw[(a[0], a[1])], raw[(c[0], c[1])]
    flagged = a[3] == c[2] or c[3] == a[2] or (a[3] is not None and a[3] == c[3])
    wa, wc = set(re.findall(r'[a-z]+', desc_of(ra).lower())), set(re.findall(r'[a-z]+', desc_of(rc).lower()))
    jac = round(len(wa & wc) / max(1, len(wa | wc)), 2)
    loc = lambda r: r.get('City') or r.get('Location') or r.get('location') or ''
    out.append({'a': f"{a[0].split('/')[-1]}:{a[1]}", 'b': f"{c[0].split('/')[-1]}:{c[1]}", 'company': company_of(ra), 'title': title_of(ra), 'loc_a': loc(ra), 'loc_b': loc(rc), 'word_jaccard': jac, 'flagged': flagged,
                'a_start': desc_of(ra)[:90].replace('\n', ' '), 'b_start': desc_of(rc)[:90].replace('\n', ' ')})
    print(i, 'FLAGGED' if flagged else 'not', jac, '|', company_of(ra)[:25], '|', title_of(ra)[:40], '|', loc(ra)[:15], '/', loc(rc)[:15])
    print('    A:', desc_of(ra)[:100].replace('\n', ' '))
    print('    B:', desc_of(rc)[:100].replace('\n', ' '))
json.dump(out, open(os.path.join(OUT, 'recall_sample.json'), 'w'), indent=1)
os._exit(0)
