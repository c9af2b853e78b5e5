
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select posting_key
from read_parquet('/tmp/parity/lake/silver/postings/posting_month=*/*.parquet', hive_partitioning = true)
where posting_key is null



  
  
      
    ) dbt_internal_test