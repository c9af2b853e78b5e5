
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select posting_key
from "dbt"."main"."int_postings_latest"
where posting_key is null



  
  
      
    ) dbt_internal_test