-- The warehouse's cleaned layer: the contract between the sync (which fills it) and audiences/messages
-- (which read it). Every table carries tenant_id NOT NULL (Booknetic's NULL tenant = 0, a single site).
-- Times: *_at BIGINT columns are Unix seconds as Booknetic stores them; *_ts are the same as TIMESTAMP (UTC).

CREATE TABLE IF NOT EXISTS customers (
    tenant_id     INTEGER NOT NULL,
    customer_id   INTEGER NOT NULL,
    first_name    VARCHAR NOT NULL,      -- '' when missing
    last_name     VARCHAR NOT NULL,      -- '' when missing
    full_name     VARCHAR NOT NULL,      -- trim(first || ' ' || last)
    email         VARCHAR NOT NULL,      -- '' when missing
    phone_raw     VARCHAR,               -- as Booknetic stored it (NULL stays NULL)
    phone_e164    VARCHAR,               -- '+15551234567' when phone_status = 'ok', else NULL
    phone_status  VARCHAR NOT NULL,      -- 'ok' | 'no_phone' | 'invalid_phone'
    phone_zones   VARCHAR[],             -- the ok number's time zones by `phonenumbers` (several when its region
                                         -- spans zones, [] when it knows none); NULL unless phone_status = 'ok'
    birthdate     DATE,
    gender        VARCHAR NOT NULL,
    created_ts    TIMESTAMP              -- customers.created_at is a DATETIME/DATE string in Booknetic
);

CREATE TABLE IF NOT EXISTS appointments (
    tenant_id        INTEGER NOT NULL,
    appointment_id   INTEGER NOT NULL,
    customer_id      INTEGER NOT NULL,
    service_id       INTEGER,
    location_id      INTEGER,
    staff_id         INTEGER,
    status           VARCHAR NOT NULL,   -- open set of slugs: pending, approved, canceled, rejected, custom...
    starts_at        BIGINT NOT NULL,    -- Unix seconds
    ends_at          BIGINT,
    created_at       BIGINT,             -- Unix seconds; NULL when Booknetic has none
    starts_ts        TIMESTAMP NOT NULL,
    ends_ts          TIMESTAMP,
    created_ts       TIMESTAMP,
    client_timezone  VARCHAR NOT NULL,   -- '' when unknown
    paid_amount      DECIMAL(18, 4),
    payment_status   VARCHAR,
    recency          INTEGER NOT NULL,   -- its place in the tenant's appointments ordered by (starts_at, appointment_id),
                                         -- 1 = the earliest: anchors compare it instead of the pair (appointments.sql)
    timezone_id      INTEGER             -- client_timezone as the tenant's client_timezones number it; NULL when ''
);

-- Each tenant's distinct non-empty client timezones, as appointments.timezone_id numbers them (client_timezones.sql).
CREATE TABLE IF NOT EXISTS client_timezones (
    tenant_id        INTEGER NOT NULL,
    timezone_id      INTEGER NOT NULL,
    client_timezone  VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS services (
    tenant_id    INTEGER NOT NULL,
    service_id   INTEGER NOT NULL,
    name         VARCHAR NOT NULL,
    price        DECIMAL(18, 4),
    duration     INTEGER,               -- minutes
    category_id  INTEGER,
    is_active    BOOLEAN
);

CREATE TABLE IF NOT EXISTS locations (
    tenant_id     INTEGER NOT NULL,
    location_id   INTEGER NOT NULL,
    name          VARCHAR NOT NULL,
    address       VARCHAR NOT NULL,
    phone_number  VARCHAR NOT NULL,
    is_active     BOOLEAN
);

CREATE TABLE IF NOT EXISTS staff (
    tenant_id     INTEGER NOT NULL,
    staff_id      INTEGER NOT NULL,
    name          VARCHAR NOT NULL,
    email         VARCHAR NOT NULL,
    phone_number  VARCHAR NOT NULL,
    profession    VARCHAR NOT NULL,
    is_active     BOOLEAN
);

-- One row per tenant that has company options (bkntc_company_* on a single site = tenant 0,
-- bkntc_t{id}_company_* on SaaS).
CREATE TABLE IF NOT EXISTS company (
    tenant_id  INTEGER NOT NULL,
    name       VARCHAR NOT NULL,
    phone      VARCHAR NOT NULL,
    address    VARCHAR NOT NULL,
    website    VARCHAR NOT NULL
);

-- Every tenant seen in the data (0 on a single site), with its name when Booknetic SaaS has one.
CREATE TABLE IF NOT EXISTS tenants (
    tenant_id  INTEGER NOT NULL,
    name       VARCHAR NOT NULL
);

-- Per-customer facts over ALL of the customer's appointments (no filters), as of the sync's as_of, and the
-- customer's phone as audiences classify it (sql/segments/classified_members.sql).
CREATE TABLE IF NOT EXISTS customer_facts (
    tenant_id              INTEGER NOT NULL,
    customer_id            INTEGER NOT NULL,
    appointment_count      INTEGER NOT NULL,
    first_starts_at        BIGINT,
    last_starts_at         BIGINT,
    next_starts_at         BIGINT,           -- first starts_at >= as_of, NULL if none
    statuses               VARCHAR[] NOT NULL,
    latest_appointment_id  INTEGER,          -- largest starts_at, ties: largest id; NULL without appointments
    latest_timezone_id     INTEGER,          -- that appointment's timezone_id (the quiet hours' first choice)
    phone_key              BIGINT,           -- phone_e164's digits as a number when the phone is ok, else NULL
    phone_exclusion        VARCHAR,          -- NULL (phone ok) | 'no_phone' | 'invalid_phone'
    phone_shared           BOOLEAN NOT NULL, -- another customer of the tenant has the same ok number
    phone_zones            VARCHAR[],        -- customers.phone_zones (what the quiet hours' preview groups by)
    phone_strict_state     BOOLEAN NOT NULL, -- a +1 number with a Florida or Oklahoma area code (08:00-20:00 by law)
    zone_set               INTEGER,          -- (phone_zones, phone_strict_state) as one id of zone_sets; NULL when
                                             -- the phone is not ok
    as_of                  TIMESTAMP NOT NULL
);

-- Each distinct (phone_zones, in a strict state) of the ok numbers, as customer_facts.zone_set names it: a preview
-- groups its recipients by small integers and reads the zones of the few groups here (sql/segments/preview.sql).
CREATE TABLE IF NOT EXISTS zone_sets (
    zone_set      INTEGER NOT NULL,
    phone_zones   VARCHAR[],
    strict_state  BOOLEAN NOT NULL
);
