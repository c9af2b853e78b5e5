
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
select * from "dbt"."main"."posting_history"
where not (first_seen <= last_seen)

  
  
      
    ) dbt_internal_test