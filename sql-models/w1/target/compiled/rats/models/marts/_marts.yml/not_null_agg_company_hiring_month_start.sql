
    
    



select month_start
from "dbt"."main"."agg_company_hiring"
where month_start is null


