
select * from "dbt"."main"."fct_postings"
where not (salary_mid_usd > 0)
