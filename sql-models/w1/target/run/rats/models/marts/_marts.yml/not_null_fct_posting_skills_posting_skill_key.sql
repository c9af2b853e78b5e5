
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select posting_skill_key
from "dbt"."main"."fct_posting_skills"
where posting_skill_key is null



  
  
      
    ) dbt_internal_test