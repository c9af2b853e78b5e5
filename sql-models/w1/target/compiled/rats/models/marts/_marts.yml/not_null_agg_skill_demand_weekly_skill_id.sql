
    
    



select skill_id
from "dbt"."main"."agg_skill_demand_weekly"
where skill_id is null


