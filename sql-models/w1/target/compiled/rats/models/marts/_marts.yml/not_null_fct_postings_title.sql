
    
    



select title
from "dbt"."main"."fct_postings"
where title is null


