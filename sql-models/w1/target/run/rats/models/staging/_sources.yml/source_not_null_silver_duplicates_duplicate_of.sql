
    
    select
      count(*) as failures,
      count(*) != 0 as should_warn,
      count(*) != 0 as should_error
    from (
      
    
  
    
    



select duplicate_of
from read_parquet('/tmp/parity/lake/silver/duplicates/*.parquet')
where duplicate_of is null



  
  
      
    ) dbt_internal_test