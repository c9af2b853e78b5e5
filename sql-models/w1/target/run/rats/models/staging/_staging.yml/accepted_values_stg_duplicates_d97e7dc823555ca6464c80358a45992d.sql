
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    

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



  
  
      
    ) dbt_internal_test