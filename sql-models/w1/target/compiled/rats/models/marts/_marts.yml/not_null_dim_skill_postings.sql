
    
    



select postings
from "dbt"."main"."dim_skill"
where postings is null


