
  
    
    

    create  table
      "dbt"."main"."posting_history"
  
    as (
      
-- Each posting's history: when it was first and last seen (over the kept record and its
-- repeats), how often it was reposted, and when its latest version was collected. Incremental: a run merges only the postings that are
-- new or whose history changed, so a rerun on the same lake changes nothing.
with history as (
    select
        posting_key,
        MIN(date_posted) AS first_seen,
        MAX(date_posted) AS last_seen,
        SUM(CASE WHEN sighting = 'repost' THEN 1 ELSE 0 END) AS repost_count
    from "dbt"."main"."int_posting_sightings"
    group by posting_key
)
select h.posting_key, h.first_seen, h.last_seen, h.repost_count, l.latest_scraped_at
from history AS h
inner join "dbt"."main"."int_postings_latest" AS l on h.posting_key = l.posting_key

    );
  
  
  