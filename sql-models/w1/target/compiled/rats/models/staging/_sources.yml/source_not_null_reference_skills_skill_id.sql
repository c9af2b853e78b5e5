
    
    



select skill_id
from read_parquet('/tmp/parity/lake/reference/skills/*.parquet')
where skill_id is null


