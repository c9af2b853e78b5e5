
    
    

with child as (
    select skill_id as from_field
    from "dbt"."main"."agg_skill_demand_weekly"
    where skill_id is not null
),

parent as (
    select skill_id as to_field
    from "dbt"."main"."dim_skill"
)

select
    from_field

from child
left join parent
    on child.from_field = parent.to_field

where parent.to_field is null


