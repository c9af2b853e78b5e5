
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select iso_week
from "dbt"."main"."agg_skill_demand_weekly"
where iso_week is null



  
  
      
    ) dbt_internal_test