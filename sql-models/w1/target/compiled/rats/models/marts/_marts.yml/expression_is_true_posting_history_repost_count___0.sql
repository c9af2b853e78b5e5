
select * from "dbt"."main"."posting_history"
where not (repost_count >= 0)
