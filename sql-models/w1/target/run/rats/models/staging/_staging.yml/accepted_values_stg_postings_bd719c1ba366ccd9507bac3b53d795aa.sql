
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    

with all_values as (

    select
        salary_source as value_field,
        count(*) as n_records

    from "dbt"."main"."stg_postings"
    group by salary_source

)

select *
from all_values
where value_field not in (
    'stated','estimated','parsed_from_text'
)



  
  
      
    ) dbt_internal_test