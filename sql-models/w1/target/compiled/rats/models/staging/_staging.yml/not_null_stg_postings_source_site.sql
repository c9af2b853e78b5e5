
    
    



select source_site
from "dbt"."main"."stg_postings"
where source_site is null


