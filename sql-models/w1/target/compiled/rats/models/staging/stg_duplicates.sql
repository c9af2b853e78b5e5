-- Records recognised as repeats of a silver posting: the reposts.
select
    posting_key as duplicate_key,
    duplicate_of as posting_key,
    match_kind,
    similarity,
    date_posted,
    scraped_at,
    source_file
from read_parquet('/tmp/parity/lake/silver/duplicates/*.parquet')