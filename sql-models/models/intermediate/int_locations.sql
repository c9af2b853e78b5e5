-- Every place postings name, keyed.
select
    {{ location_key('location_city', 'location_state', 'location_country') }} AS location_key,
    location_city,
    location_state,
    location_country,
    posting_key,
    remote_type
from {{ ref('stg_postings') }}
