{{ config(materialized='incremental', unique_key='posting_key') }}
-- Each posting's history: when it was first posted, and how often it was seen again (the
-- records recognised as its duplicates). Incremental: a run merges only the postings that
-- are new or whose repost count changed, so a rerun on the same lake changes nothing.
with history as (
    select
        p.posting_key,
        p.date_posted AS first_seen,
        COUNT(d.duplicate_key) AS repost_count
    from {{ ref('stg_postings') }} AS p
    left join {{ ref('stg_duplicates') }} AS d on p.posting_key = d.posting_key
    group by p.posting_key, p.date_posted
)
select h.posting_key, h.first_seen, h.repost_count
from history AS h
{% if is_incremental() %}
left join {{ this }} AS known on h.posting_key = known.posting_key
where known.posting_key IS NULL OR known.repost_count <> h.repost_count
{% endif %}
