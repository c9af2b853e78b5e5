
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    

select
    posting_key as unique_field,
    count(*) as n_records

from "dbt"."main"."int_postings_latest"
where posting_key is not null
group by posting_key
having count(*) > 1



  
  
      
    ) dbt_internal_test