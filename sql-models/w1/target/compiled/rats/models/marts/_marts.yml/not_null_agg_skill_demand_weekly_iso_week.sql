
    
    



select iso_week
from "dbt"."main"."agg_skill_demand_weekly"
where iso_week is null


