
    
    



select category
from "dbt"."main"."dim_skill"
where category is null


