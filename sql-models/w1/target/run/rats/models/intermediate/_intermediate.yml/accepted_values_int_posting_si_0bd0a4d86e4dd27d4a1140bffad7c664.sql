
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    

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



  
  
      
    ) dbt_internal_test