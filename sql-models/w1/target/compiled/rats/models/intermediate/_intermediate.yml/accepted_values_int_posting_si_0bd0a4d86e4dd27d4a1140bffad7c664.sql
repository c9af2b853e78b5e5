
    
    

with all_values as (

    select
        sighting as value_field,
        count(*) as n_records

    from "dbt"."main"."int_posting_sightings"
    group by sighting

)

select *
from all_values
where value_field not in (
    'original','repost'
)


