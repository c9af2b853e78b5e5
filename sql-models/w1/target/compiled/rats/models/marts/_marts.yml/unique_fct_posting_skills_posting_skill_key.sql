
    
    

select
    posting_skill_key as unique_field,
    count(*) as n_records

from "dbt"."main"."fct_posting_skills"
where posting_skill_key is not null
group by posting_skill_key
having count(*) > 1


