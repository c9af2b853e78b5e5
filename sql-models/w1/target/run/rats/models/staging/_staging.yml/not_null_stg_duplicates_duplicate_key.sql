
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select duplicate_key
from "dbt"."main"."stg_duplicates"
where duplicate_key is null



  
  
      
    ) dbt_internal_test