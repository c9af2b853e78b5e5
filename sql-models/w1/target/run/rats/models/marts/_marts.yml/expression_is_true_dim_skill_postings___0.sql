
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
select * from "dbt"."main"."dim_skill"
where not (postings >= 0)

  
  
      
    ) dbt_internal_test