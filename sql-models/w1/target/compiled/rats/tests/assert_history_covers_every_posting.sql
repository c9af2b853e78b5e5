-- Every posting of the fact table has its history row.
select f.posting_key
from "dbt"."main"."fct_postings" AS f
left join "dbt"."main"."posting_history" AS h on f.posting_key = h.posting_key
where h.posting_key IS NULL