-- Company details from WordPress options: bkntc_company_<field> is tenant 0 (a single site),
-- bkntc_t<id>_company_<field> is tenant <id> (Booknetic SaaS). One row per tenant with any of them.
INSERT INTO company
WITH parsed AS (
    SELECT
        coalesce(try_cast(regexp_extract(option_name, '^bkntc_(t([0-9]+)_)?company_(name|phone|address|website)$', 2)
                          AS INTEGER), 0)                                                               AS tenant_id,
        regexp_extract(option_name, '^bkntc_(t([0-9]+)_)?company_(name|phone|address|website)$', 3)    AS field,
        option_value
    FROM raw_options
    WHERE regexp_full_match(option_name, '^bkntc_(t([0-9]+)_)?company_(name|phone|address|website)$')
)
SELECT
    tenant_id,
    coalesce(max(option_value) FILTER (WHERE field = 'name'), '')     AS name,
    coalesce(max(option_value) FILTER (WHERE field = 'phone'), '')    AS phone,
    coalesce(max(option_value) FILTER (WHERE field = 'address'), '')  AS address,
    coalesce(max(option_value) FILTER (WHERE field = 'website'), '')  AS website
FROM parsed
GROUP BY tenant_id
