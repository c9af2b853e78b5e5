
  
  create view "dbt"."main"."int_locations__dbt_tmp" as (
    -- Every place postings name, keyed.
select
    CONCAT(COALESCE(location_country, ''), '|', COALESCE(location_state, ''), '|', COALESCE(location_city, '')) AS location_key,
    location_city,
    location_state,
    location_country,
    posting_key,
    remote_type
from "dbt"."main"."stg_postings"
  );
