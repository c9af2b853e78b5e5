
select * from "dbt"."main"."agg_salary_by_title_location"
where not (salary_mid_usd_min <= salary_mid_usd_max)
