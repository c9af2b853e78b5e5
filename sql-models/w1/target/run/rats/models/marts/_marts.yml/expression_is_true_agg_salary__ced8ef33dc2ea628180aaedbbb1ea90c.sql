
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
select * from "dbt"."main"."agg_salary_by_title_location"
where not (salary_mid_usd_min <= salary_mid_usd_max)

  
  
      
    ) dbt_internal_test