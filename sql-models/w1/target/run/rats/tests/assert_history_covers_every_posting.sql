
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  -- Every posting of the fact table has its history row.
select f.posting_key
from "dbt"."main"."fct_postings" AS f
left join "dbt"."main"."posting_history" AS h on f.posting_key = h.posting_key
where h.posting_key IS NULL
  
  
      
    ) dbt_internal_test