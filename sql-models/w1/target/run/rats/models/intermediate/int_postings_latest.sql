
  
  create view "dbt"."main"."int_postings_latest__dbt_tmp" as (
    -- Each posting's latest version: its most recent sighting (the kept record or a repeat), by
-- posting date, then collection time.
with ranked as (
    select
        posting_key,
        sighting,
        date_posted,
        scraped_at,
        ROW_NUMBER() OVER (PARTITION BY posting_key ORDER BY date_posted DESC, scraped_at DESC) AS recency
    from "dbt"."main"."int_posting_sightings"
)
select posting_key, sighting AS latest_sighting, date_posted AS latest_date_posted, scraped_at AS latest_scraped_at
from ranked
where recency = 1
  );
