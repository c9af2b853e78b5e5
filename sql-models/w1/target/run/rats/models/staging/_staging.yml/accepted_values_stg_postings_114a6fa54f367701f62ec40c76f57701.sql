
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    

with all_values as (

    select
        remote_type as value_field,
        count(*) as n_records

    from "dbt"."main"."stg_postings"
    group by remote_type

)

select *
from all_values
where value_field not in (
    'remote','hybrid','on-site'
)



  
  
      
    ) dbt_internal_test