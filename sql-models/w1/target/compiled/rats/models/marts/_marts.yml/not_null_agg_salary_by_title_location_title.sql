
    
    



select title
from "dbt"."main"."agg_salary_by_title_location"
where title is null


