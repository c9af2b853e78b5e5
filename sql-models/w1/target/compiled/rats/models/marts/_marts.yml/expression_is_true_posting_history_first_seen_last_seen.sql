
select * from "dbt"."main"."posting_history"
where not (first_seen <= last_seen)
