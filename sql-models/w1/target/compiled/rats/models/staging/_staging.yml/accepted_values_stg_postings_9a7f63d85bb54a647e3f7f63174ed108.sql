
    
    

with all_values as (

    select
        seniority as value_field,
        count(*) as n_records

    from "dbt"."main"."stg_postings"
    group by seniority

)

select *
from all_values
where value_field not in (
    'intern','entry','mid','senior','lead','manager','director','executive'
)


