
    
    



select title
from "dbt"."main"."stg_postings"
where title is null


