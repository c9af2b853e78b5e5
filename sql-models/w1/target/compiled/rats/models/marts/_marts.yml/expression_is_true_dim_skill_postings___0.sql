
select * from "dbt"."main"."dim_skill"
where not (postings >= 0)
