
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select month_start
from "dbt"."main"."agg_company_hiring"
where month_start is null



  
  
      
    ) dbt_internal_test