
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
select * from "dbt"."main"."fct_postings"
where not (salary_mid_usd > 0)

  
  
      
    ) dbt_internal_test