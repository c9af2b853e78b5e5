
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
select * from "dbt"."main"."agg_skill_demand_weekly"
where not (postings_with_skill <= postings_in_week)

  
  
      
    ) dbt_internal_test