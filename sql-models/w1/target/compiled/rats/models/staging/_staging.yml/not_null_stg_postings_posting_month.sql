
    
    



select posting_month
from "dbt"."main"."stg_postings"
where posting_month is null


