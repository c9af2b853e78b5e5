
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select title
from read_parquet('/tmp/parity/lake/silver/postings/posting_month=*/*.parquet', hive_partitioning = true)
where title is null



  
  
      
    ) dbt_internal_test