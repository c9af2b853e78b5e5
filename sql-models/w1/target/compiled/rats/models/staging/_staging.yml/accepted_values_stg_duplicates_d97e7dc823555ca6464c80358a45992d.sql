
    
    

with all_values as (

    select
        match_kind as value_field,
        count(*) as n_records

    from "dbt"."main"."stg_duplicates"
    group by match_kind

)

select *
from all_values
where value_field not in (
    'source_id','url','content','near'
)


