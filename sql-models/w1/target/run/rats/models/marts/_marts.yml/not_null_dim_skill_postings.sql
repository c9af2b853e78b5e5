
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select postings
from "dbt"."main"."dim_skill"
where postings is null



  
  
      
    ) dbt_internal_test