
  
  create view "dbt"."main"."stg_posting_skills__dbt_tmp" as (
    -- One row per posting and taxonomy skill it mentions: silver's skill_ids, unnested. (An empty
-- list unnests to one NULL under Polars and to no row under DuckDB; both are dropped.)
select
    posting_key,
    skill_id
from (
    select
        posting_key,
        UNNEST(skill_ids) AS skill_id
    from read_parquet('/tmp/parity/lake/silver/postings/posting_month=*/*.parquet', hive_partitioning = true)
) AS mentioned
where skill_id IS NOT NULL
  );
