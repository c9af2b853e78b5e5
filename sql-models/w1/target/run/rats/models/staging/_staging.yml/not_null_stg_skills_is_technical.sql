
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select is_technical
from "dbt"."main"."stg_skills"
where is_technical is null



  
  
      
    ) dbt_internal_test