-- The skill taxonomy as the lake holds it.
select
    skill_id,
    skill_name,
    category,
    category_description,
    parent_ids,
    is_technical
from read_parquet('/tmp/parity/lake/reference/skills/*.parquet')