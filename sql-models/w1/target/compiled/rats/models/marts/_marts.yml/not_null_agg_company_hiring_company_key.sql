
    
    



select company_key
from "dbt"."main"."agg_company_hiring"
where company_key is null


