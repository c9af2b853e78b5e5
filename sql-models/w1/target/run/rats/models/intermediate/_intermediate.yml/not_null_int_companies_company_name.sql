
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select company_name
from "dbt"."main"."int_companies"
where company_name is null



  
  
      
    ) dbt_internal_test