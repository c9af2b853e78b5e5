
  
  create view "dbt"."main"."int_posting_sightings__dbt_tmp" as (
    -- Every time a posting was seen: the kept record itself and each record recognised as a repeat
-- of it, with when it was posted and collected. The latest sighting is the posting's latest
-- version.
select
    posting_key,
    'original' AS sighting,
    date_posted,
    scraped_at
from "dbt"."main"."stg_postings"
union all
select
    posting_key,
    'repost' AS sighting,
    date_posted,
    scraped_at
from "dbt"."main"."stg_duplicates"
  );
