
  
    
    

    create  table
      "dbt"."main"."dim_location__dbt_tmp"
  
    as (
      -- One row per place, with how many postings name it.
select
    location_key,
    MAX(location_city) AS location_city,
    MAX(location_state) AS location_state,
    MAX(location_country) AS location_country,
    COUNT(*) AS postings
from "dbt"."main"."int_locations"
group by location_key
    );
  
  