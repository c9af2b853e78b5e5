
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
select * from "dbt"."main"."posting_history"
where not (repost_count >= 0)

  
  
      
    ) dbt_internal_test