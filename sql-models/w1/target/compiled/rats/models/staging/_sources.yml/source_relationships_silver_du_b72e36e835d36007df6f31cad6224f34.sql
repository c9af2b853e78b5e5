
    
    

with child as (
    select duplicate_of as from_field
    from read_parquet('/tmp/parity/lake/silver/duplicates/*.parquet')
    where duplicate_of is not null
),

parent as (
    select posting_key as to_field
    from read_parquet('/tmp/parity/lake/silver/postings/posting_month=*/*.parquet', hive_partitioning = true)
)

select
    from_field

from child
left join parent
    on child.from_field = parent.to_field

where parent.to_field is null


