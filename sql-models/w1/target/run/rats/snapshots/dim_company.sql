
      
  
    
    

    create  table
      "dbt"."main"."dim_company"
  
    as (
      
    

    select *,
        md5(coalesce(cast(company_key as varchar ), '')
         || '|' || coalesce(cast(now()::timestamp as varchar ), '')
        ) as dbt_scd_id,
        now()::timestamp as dbt_updated_at,
        now()::timestamp as dbt_valid_from,
        
  
  coalesce(nullif(now()::timestamp, now()::timestamp), null)
  as dbt_valid_to
from (
        

-- Companies as a slowly changing dimension (type 2): a change of name, size band or industry
-- closes the current version (dbt_valid_to) and opens a new one.
select company_key, company_name, company_size_band, company_industry
from "dbt"."main"."int_companies"
    ) sbq



    );
  
  
  