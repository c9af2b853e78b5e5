
    
    



select duplicate_of
from read_parquet('/tmp/parity/lake/silver/duplicates/*.parquet')
where duplicate_of is null


