
select * from "dbt"."main"."agg_skill_demand_weekly"
where not (postings_with_skill > 0)
