"""Synthetic Booknetic data, shaped and messed up like a real install, generated vectorized from a seed."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from orchestration.errors import UserError
from orchestration.source.folder import write_csv
from orchestration.source.schema import MONEY, OPTIONS_PREFIX, TABLES

DAY = 86_400

# A customer archetype per row guarantees every segment is non-empty for every tenant, whatever the seed:
# (days from as_of to the start, days booked ahead, status) for each of the customer's appointments.
ARCHETYPES: tuple[tuple[tuple[int, int, str], ...], ...] = (
    ((-10, 2, "approved"),),                                                    # first-time, recent booker
    ((3, 5, "approved"), (-60, 3, "approved"), (-200, 1, "completed")),          # upcoming, booked < 7 days ago
    ((-400, 3, "approved"), (-300, 2, "completed"), (-200, 9, "approved"),
     (-100, 4, "completed"), (-30, 2, "approved"), (-5, 1, "no-show")),          # repeat
    ((-150, 4, "approved"), (-120, 2, "completed")),                             # lapsed > 90 days
    ((-500, 3, "approved"), (-400, 6, "approved"), (-250, 2, "completed")),      # lapsed > 180 days
    ((-90, 3, "approved"), (-10, 2, "canceled")),                                # canceled recently
    ((10, 12, "rejected"), (-200, 1, "approved")),                               # rejected recently
    (),                                                                          # never booked
)

FIRST_NAMES = {
    "latin": ["James", "Mary", "John", "Linda", "Robert", "Emily", "Michael", "Sarah", "David", "Laura",
              "Daniel", "Anna", "Thomas", "Emma", "Kevin", "Olivia", "Brian", "Sophia", "Jason", "Grace"],
    "accented": ["José", "Zoë", "Chloé", "François", "Jürgen", "Søren", "Ångström", "Łukasz", "Mónica", "Çağla",
                 "Renée", "Björn", "Ñuño", "Dvořák", "Inês"],
    "cyrillic": ["Иван", "Мария", "Алексей", "Ольга", "Дмитрий", "Наталья", "Сергей", "Татьяна"],
    "cjk": ["伟", "芳", "秀英", "健", "さくら", "陽翔", "민준", "서연"],
    "arabic": ["محمد", "فاطمة", "أحمد", "مريم", "علي", "نور"],
    "emoji": ["Anna 🌸", "Max 🎸", "Lily 🌼", "Sam 😀", "🦄 Uni", "Leo ⚽"],
}
LAST_NAMES = {
    "latin": ["Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor", "Clark",
              "O'Brien", "Van der Berg", "Smith-Jones"],
    "accented": ["Müller", "García", "Núñez", "Gonçalves", "Østergaard", "Škoda", "Lefèvre", "Doğan"],
    "cyrillic": ["Иванов", "Петрова", "Смирнов", "Кузнецова", "Попов"],
    "cjk": ["王", "李", "张", "佐藤", "鈴木", "김", "이"],
    "arabic": ["الحسن", "عبد الله", "الخطيب", "حداد"],
    "emoji": ["✨", "Star ⭐", "Rivera 🌊"],
}
SCRIPT_WEIGHTS = [0.60, 0.14, 0.09, 0.08, 0.06, 0.03]
EMAIL_NAMES = np.array(["anna", "john", "maria", "li.wei", "ivan", "sara", "omar", "yuki", "max", "zoe"])
EMAIL_DOMAINS = np.array(["gmail.com", "yahoo.com", "outlook.com", "example.com", "mail.ru", "web.de"])
US_AREA_CODES = np.array([201, 202, 206, 212, 213, 214, 303, 305, 310, 312, 313, 347, 404, 415, 469, 503, 512,
                          602, 617, 646, 702, 713, 718, 720, 773, 786, 801, 818, 917, 949])
GARBAGE_PHONES = np.array(["12345", "n/a", "none", "000", "555-CALL-NOW", "+1 000", "call me", "0"])
# Phone kinds and their shares: the mess a real Booknetic customer table holds.
PHONE_KINDS = ("e164_us", "national", "dashed", "spaced", "no_plus", "foreign", "empty", "null", "garbage",
               "duplicate")
PHONE_WEIGHTS = [0.70, 0.05, 0.03, 0.03, 0.03, 0.05, 0.03, 0.03, 0.03, 0.02]  # a shared number has 2+ holders

SERVICE_NAMES = ["Haircut", "Beard trim", "Color & highlights", "Massage 60 min", "Massage 90 min", "Facial",
                 "Manicure", "Pedicure", "Consultation", "Teeth cleaning", "Yoga class", "Personal training"]
CATEGORY_NAMES = ["Hair", "Body", "Wellness", "Beauty", "Health"]
PROFESSIONS = ["Stylist", "Therapist", "Trainer", "Dentist", "Beautician"]
CITIES = ["New York, NY 10001", "Miami, FL 33101", "Chicago, IL 60601", "Austin, TX 73301", "Seattle, WA 98101"]
STREETS = ["Main St", "Broadway", "Oak Avenue", "5th Avenue", "Elm Street", "Sunset Blvd"]
NOTES = np.array(["Please call before", 'Said "see you soon", then left', "Allergic to latex",
                  "Prefers the window seat,\nsecond line", "Первый визит", "🎂 birthday"])
LOCALES = np.array(["en_US", "en_US", "en_US", "de_DE", "fr_FR", "es_ES", "ru_RU"])
TIMEZONES = np.array(["", "America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/Berlin",
                      "Europe/London", "Asia/Tokyo"])
PAST_STATUSES = (["approved", "completed", "canceled", "rejected", "no-show", "pending"],
                 [0.55, 0.18, 0.10, 0.04, 0.05, 0.08])
FUTURE_STATUSES = (["pending", "approved", "canceled", "rejected"], [0.30, 0.60, 0.07, 0.03])
PROFILE_WINDOWS = np.array([[-730, 45], [-175, -95], [-900, -185]])  # days: active, lapsed > 90, lapsed > 180
PROFILE_WEIGHTS = [0.75, 0.12, 0.13]


def _pick(rng: np.random.Generator, values: list[str] | np.ndarray, size: int, p=None) -> pa.Array:
    """`size` strings drawn from `values`, built by Arrow's take (no Python loop over rows)."""
    index = rng.choice(len(values), size=size, p=p)
    return pa.array(np.asarray(values, dtype=object)).take(pa.array(index))


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _digits(values: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pa.array(values).cast(pa.string()), width=width, padding="0")


def _money(cents: np.ndarray) -> pa.Array:
    return pa.array(cents / 100.0).cast(MONEY, safe=False)


def _datetime_text(seconds: np.ndarray, fmt: str = "%Y-%m-%d %H:%M:%S") -> pa.Array:
    return pc.strftime(pa.array(seconds, pa.timestamp("s")), format=fmt)


def _tenant_column(tenant_index: np.ndarray, single_site: bool) -> pa.Array:
    values = tenant_index.astype(np.int64) + 1
    return pa.array(values, pa.int64(), mask=np.full(len(values), single_site))


def _table(name: str, columns: dict[str, pa.Array | np.ndarray]) -> pa.Table:
    schema = TABLES[name].schema
    return pa.Table.from_arrays([pa.array(columns[f.name], f.type) if isinstance(columns[f.name], np.ndarray)
                                 else columns[f.name] for f in schema], schema=schema)


def _names(rng: np.random.Generator, pools: dict[str, list[str]], size: int, empty_share: float) -> pa.Array:
    scripts = list(pools)
    flat = [name for script in scripts for name in pools[script]]
    offsets = np.cumsum([0] + [len(pools[s]) for s in scripts])[:-1]
    sizes = np.array([len(pools[s]) for s in scripts])
    script = rng.choice(len(scripts), size=size, p=SCRIPT_WEIGHTS)
    index = offsets[script] + (rng.random(size) * sizes[script]).astype(np.int64)
    names = pa.array(np.asarray(flat, dtype=object)).take(pa.array(index))
    return pc.if_else(pa.array(rng.random(size) < empty_share), "", names)


def _phones(rng: np.random.Generator, tenant_index: np.ndarray, forced: int) -> pa.Array:
    size = len(tenant_index)
    area = US_AREA_CODES[rng.integers(0, len(US_AREA_CODES), size)]
    exchange = rng.integers(200, 1000, size)
    exchange = np.where((exchange % 100 == 11) | (exchange == 555), exchange + 1, exchange)
    line = rng.integers(0, 10_000, size)
    a, e, ln = _digits(area, 3), _digits(exchange, 3), _digits(line, 4)
    e164 = _join("+1", a, e, ln)
    foreign = pc.if_else(pa.array(rng.random(size) < 0.5),
                         _join("+4420", _digits(rng.integers(70_000_000, 80_000_000, size), 8)),
                         _join("+4930", _digits(rng.integers(10_000_000, 99_999_999, size), 8)))
    # Another customer of the same tenant: families and re-registrations share one number.
    order = np.argsort(tenant_index, kind="stable")
    counts = np.bincount(tenant_index)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    sibling = order[starts[tenant_index] + (rng.random(size) * counts[tenant_index]).astype(np.int64)]
    variants = [
        e164,
        _join("(", a, ") ", e, "-", ln),
        _join(a, "-", e, "-", ln),
        _join("+1 ", a, " ", e, " ", ln),
        _join("1", a, e, ln),
        foreign,
        pa.array([""] * size),
        pa.nulls(size, pa.string()),
        _pick(rng, GARBAGE_PHONES, size),
        e164.take(pa.array(sibling)),
    ]
    kind = rng.choice(len(PHONE_KINDS), size=size, p=PHONE_WEIGHTS).astype(np.int8)
    kind[:forced] = 0
    return pc.choose(pa.array(kind), *variants)


def _catalog(rng: np.random.Generator, tenants: int) -> tuple[dict[str, pa.Table], dict, dict]:
    """Services, locations, staff and service categories: a handful per tenant, ids global like Booknetic's.

    Also returns, per kind, each tenant's first id and count, so appointments pick within their tenant.
    """
    single_site = tenants == 0
    count = max(tenants, 1)
    per_tenant = {"service_categories": rng.integers(2, 4, count), "services": rng.integers(4, 9, count),
                  "locations": rng.integers(1, 4, count), "staff": rng.integers(3, 6, count)}
    owner = {name: np.repeat(np.arange(count), n) for name, n in per_tenant.items()}
    first_id = {name: np.concatenate([[1], np.cumsum(n)[:-1] + 1]) for name, n in per_tenant.items()}
    n_cat, n_svc, n_loc, n_staff = (len(owner[k]) for k in ("service_categories", "services", "locations", "staff"))

    cat_owner = owner["service_categories"]
    cat_rank = np.arange(n_cat) - (first_id["service_categories"][cat_owner] - 1)
    categories = _table("service_categories", {
        "id": np.arange(1, n_cat + 1),
        "name": pa.array(np.asarray(CATEGORY_NAMES, dtype=object)[cat_rank % len(CATEGORY_NAMES)]),
        "parent_id": np.where(cat_rank == 2, first_id["service_categories"][cat_owner], 0),
        "tenant_id": _tenant_column(cat_owner, single_site),
    })
    svc_owner = owner["services"]
    svc_rank = np.arange(n_svc) - (first_id["services"][svc_owner] - 1)
    services = _table("services", {
        "id": np.arange(1, n_svc + 1),
        "name": pa.array(np.asarray(SERVICE_NAMES, dtype=object)[svc_rank % len(SERVICE_NAMES)]),
        "price": _money(rng.integers(4, 40, n_svc) * 500),
        "category_id": first_id["service_categories"][svc_owner]
        + rng.integers(0, 100, n_svc) % per_tenant["service_categories"][svc_owner],
        "duration": rng.choice([30, 45, 60, 90], n_svc),
        "is_active": (rng.random(n_svc) < 0.9).astype(np.int64),
        "is_visible": np.ones(n_svc, np.int64),
        "color": _pick(rng, ["#53d56c", "#26c0d6", "#fd9b78", "#cc65aa"], n_svc),
        "tenant_id": _tenant_column(svc_owner, single_site),
    })
    loc_owner = owner["locations"]
    locations = _table("locations", {
        "id": np.arange(1, n_loc + 1),
        "name": _join(_pick(rng, ["Downtown", "Uptown", "Riverside", "Mall"], n_loc), " studio"),
        "address": _join(pa.array(rng.integers(1, 999, n_loc)).cast(pa.string()), " ",
                         _pick(rng, STREETS, n_loc), ", ", _pick(rng, CITIES, n_loc)),
        "phone_number": _phones(rng, np.zeros(n_loc, np.int64), n_loc),
        "is_active": np.ones(n_loc, np.int64),
        "tenant_id": _tenant_column(loc_owner, single_site),
    })
    staff_owner = owner["staff"]
    staff_names = _join(_names(rng, FIRST_NAMES, n_staff, 0.0), " ", _names(rng, LAST_NAMES, n_staff, 0.0))
    staff = _table("staff", {
        "id": np.arange(1, n_staff + 1),
        "name": staff_names,
        "email": _join("staff", pa.array(np.arange(1, n_staff + 1)).cast(pa.string()), "@example.com"),
        "phone_number": _phones(rng, np.zeros(n_staff, np.int64), n_staff),
        "profession": _pick(rng, PROFESSIONS, n_staff),
        "is_active": np.ones(n_staff, np.int64),
        "tenant_id": _tenant_column(staff_owner, single_site),
    })
    tables = {"services": services, "locations": locations, "staff": staff, "service_categories": categories}
    return tables, first_id, per_tenant


def _appointments(rng: np.random.Generator, customer_tenant: np.ndarray, forced: int, tenants: int, now: int,
                  services: pa.Table, first_id: dict, per_tenant: dict) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """Appointments per customer (~5 on average), placed relative to `now`; also each customer's count/first."""
    n_customers = len(customer_tenant)
    u = rng.random(n_customers)
    counts = np.where(u < 0.08, 0, np.where(u < 0.23, 1, np.where(u < 0.35, 2, 3 + rng.poisson(4.5, n_customers))))
    profile = rng.choice(len(PROFILE_WEIGHTS), size=n_customers, p=PROFILE_WEIGHTS)
    archetype = np.arange(forced) // max(tenants, 1)
    counts[:forced] = np.array([len(a) for a in ARCHETYPES])[archetype]
    size = int(counts.sum())
    owner = np.repeat(np.arange(n_customers), counts)
    tenant = customer_tenant[owner]

    window = PROFILE_WINDOWS[profile[owner]]
    day = rng.integers(window[:, 0], window[:, 1] + 1)
    midnight = now - now % DAY
    starts = midnight + day * DAY + rng.integers(8, 19, size) * 3600 + rng.choice([0, 15, 30, 45], size) * 60
    lead = np.minimum(rng.exponential(7.0, size).astype(np.int64), 60)
    created = starts - lead * DAY - rng.integers(0, DAY, size)
    created = np.where(created > now, now - rng.integers(60, 3 * DAY, size), created)
    past_labels, past_p = PAST_STATUSES
    future_labels, future_p = FUTURE_STATUSES
    labels = past_labels + [s for s in future_labels if s not in past_labels]
    past_pick = rng.choice(len(past_labels), size=size, p=past_p)
    future_pick = np.array([labels.index(s) for s in future_labels])[rng.choice(len(future_labels), size, p=future_p)]
    status_index = np.where(starts >= now, future_pick, past_pick)

    first_row = np.concatenate([[0], np.cumsum(counts)[:-1]])
    hour = now - now % 3600
    for customer in range(forced):
        for offset, (days, ahead, status) in enumerate(ARCHETYPES[archetype[customer]]):
            row = first_row[customer] + offset
            starts[row] = hour + days * DAY
            created[row] = starts[row] - ahead * DAY
            status_index[row] = labels.index(status)

    booked = counts > 0
    first_created = np.full(n_customers, np.iinfo(np.int64).max)
    first_created[booked] = np.minimum.reduceat(created, first_row[booked])
    order = np.argsort(created, kind="stable")  # auto-increment ids follow booking time
    owner, tenant, starts, created, status_index = (a[order] for a in (owner, tenant, starts, created, status_index))

    def in_tenant(kind: str) -> np.ndarray:
        return first_id[kind][tenant] + (rng.random(size) * per_tenant[kind][tenant]).astype(np.int64)

    service = in_tenant("services")
    duration = services.column("duration").to_numpy()[service - 1]
    price_cents = (services.column("price").cast(pa.float64()).to_numpy() * 100).round().astype(np.int64)
    buffer = rng.choice([0, 0, 600], size)
    weight = rng.choice([1, 2, 3], size, p=[0.92, 0.06, 0.02])
    payment_status = rng.choice(4, size, p=[0.6, 0.25, 0.1, 0.05])
    ends = starts + duration * 60

    columns = {
        "id": np.arange(1, size + 1),
        "location_id": in_tenant("locations"),
        "service_id": service,
        "staff_id": in_tenant("staff"),
        "customer_id": owner + 1,
        "status": pa.array(np.asarray(labels, dtype=object)).take(pa.array(status_index)),
        "starts_at": starts,
        "ends_at": ends,
        "busy_from": starts - buffer,
        "busy_to": ends + buffer,
        "weight": weight,
        "payment_method": _pick(rng, ["local", "stripe", "paypal", "woocommerce"], size, p=[0.6, 0.2, 0.15, 0.05]),
        "payment_status": pa.array(np.asarray(["paid", "not_paid", "pending", "canceled"], dtype=object))
        .take(pa.array(payment_status)),
        "paid_amount": _money(np.where(payment_status == 0, price_cents[service - 1] * weight, 0)),
        "note": pc.if_else(pa.array(rng.random(size) < 0.9), "", _pick(rng, NOTES, size)),
        "locale": _pick(rng, LOCALES, size),
        "client_timezone": _pick(rng, TIMEZONES, size),
        "created_at": created,
        "tenant_id": _tenant_column(tenant, tenants == 0),
    }
    return _table("appointments", columns), counts, first_created


def _customers(rng: np.random.Generator, customer_tenant: np.ndarray, forced: int, tenants: int, now: int,
               counts: np.ndarray, first_created: np.ndarray) -> pa.Table:
    size = len(customer_tenant)
    ids = np.arange(1, size + 1)
    first = _names(rng, FIRST_NAMES, size, 0.02)
    last = _names(rng, LAST_NAMES, size, 0.06)
    email = _join(_pick(rng, EMAIL_NAMES, size), pa.array(ids).cast(pa.string()), "@", _pick(rng, EMAIL_DOMAINS, size))
    signed_up = np.where(counts > 0, first_created - rng.integers(0, 5 * DAY, size),
                         now - rng.integers(DAY, 1000 * DAY, size))
    front_end = pa.array(rng.random(size) < 0.45)
    birth_days = rng.integers(-7300, 12_784, size).astype(np.int32)
    user_kind = rng.random(size)
    return _table("customers", {
        "id": ids,
        "user_id": pa.array(np.where(user_kind < 0.3, 0, 100 + ids), pa.int64(), mask=user_kind > 0.8),
        "first_name": first,
        "last_name": last,
        "phone_number": _phones(rng, customer_tenant, forced),
        "email": pc.if_else(pa.array(rng.random(size) < 0.05), "", email),
        "birthdate": pa.array(birth_days, pa.int32(), mask=rng.random(size) < 0.55).cast(pa.date32()),
        "gender": _pick(rng, ["male", "female", ""], size, p=[0.4, 0.45, 0.15]),
        "notes": pc.if_else(pa.array(rng.random(size) < 0.95), "", _pick(rng, NOTES, size)),
        "profile_image": pc.if_else(pa.array(rng.random(size) < 0.9), "",
                                    _join("avatar_", pa.array(ids).cast(pa.string()), ".jpg")),
        "created_by": rng.choice([0, 1], size, p=[0.7, 0.3]),
        "created_at": pc.if_else(front_end, _datetime_text(signed_up, "%Y-%m-%d"), _datetime_text(signed_up)),
        "tenant_id": _tenant_column(customer_tenant, tenants == 0),
    })


def _tenants(rng: np.random.Generator, tenants: int, now: int) -> pa.Table:
    ids = np.arange(1, tenants + 1)
    text_ids = pa.array(ids).cast(pa.string())
    inserted = now - rng.integers(30 * DAY, 900 * DAY, tenants)
    return _table("tenants", {
        "id": ids,
        "user_id": 10 + ids,
        "email": _join("owner", text_ids, "@example.com"),
        "full_name": _join(_names(rng, FIRST_NAMES, tenants, 0.0), " ", _names(rng, LAST_NAMES, tenants, 0.0)),
        "domain": _join("salon-", text_ids),
        "plan_id": rng.integers(1, 4, tenants),
        "expires_in": _datetime_text(now + rng.integers(-30 * DAY, 365 * DAY, tenants), "%Y-%m-%d"),
        "inserted_at": _datetime_text(inserted),
        "verified_at": _datetime_text(inserted + rng.integers(60, DAY, tenants)),
        "active_subscription": pa.array(np.where(rng.random(tenants) < 0.7, "sub_" + ids.astype(str), None)),
        "money_balance": _money(rng.integers(0, 50_000, tenants)),
    })


def _options(rng: np.random.Generator, tenants: int) -> pa.Table:
    keys = [""] if tenants == 0 else [f"t{i}_" for i in range(1, tenants + 1)]
    names, values = ["siteurl", "blogname", "bkntc_default_phone_country"], ["https://example.com", "My Site", "us"]
    for number, key in enumerate(keys, start=1):
        company = f"{rng.choice(['Bella', 'Urban', 'Zen', 'Golden'])} Studio {number}"
        names += [f"bkntc_{key}company_{field}" for field in ("name", "phone", "address", "website")]
        values += [company, f"+1212{rng.integers(200, 999)}{rng.integers(1000, 9999)}",
                   f"{rng.integers(1, 999)} {rng.choice(STREETS)}, {rng.choice(CITIES)}", f"https://studio{number}.example.com"]
    order = np.argsort(names, kind="stable")
    return _table("options", {"option_name": pa.array(np.asarray(names)[order]),
                              "option_value": pa.array(np.asarray(values)[order])})


def generate(customers: int, tenants: int, seed: int, as_of: datetime) -> dict[str, pa.Table]:
    """Booknetic tables for `customers` customers over `tenants` tenants (0 = a single site), relative to as_of."""
    if tenants < 0:
        raise UserError(f"tenants must be 0 (a single site) or more, not {tenants}")
    forced = len(ARCHETYPES) * max(tenants, 1)
    if customers < forced:
        raise UserError(f"need at least {forced} customers for {max(tenants, 1)} tenant(s), not {customers}")
    as_of = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
    now = int(as_of.timestamp())
    rng = np.random.default_rng(seed)
    count = max(tenants, 1)
    share = rng.dirichlet(np.full(count, 4.0))
    customer_tenant = np.concatenate([np.arange(forced) % count, rng.choice(count, customers - forced, p=share)])
    catalog, first_id, per_tenant = _catalog(rng, tenants)
    appointments, counts, first_created = _appointments(rng, customer_tenant, forced, tenants, now,
                                                        catalog["services"], first_id, per_tenant)
    tables = {
        "customers": _customers(rng, customer_tenant, forced, tenants, now, counts, first_created),
        "appointments": appointments,
        **catalog,
        "options": _options(rng, tenants),
    }
    if tenants:
        tables["tenants"] = _tenants(rng, tenants, now)
    return tables


def bkntc_options(options: pa.Table) -> pa.Table:
    """The rows of a WordPress options table that belong to Booknetic (what the readers return)."""
    return options.filter(pc.starts_with(options.column("option_name"), OPTIONS_PREFIX))


def write_snapshot(tables: dict[str, pa.Table], out_dir: str | os.PathLike[str], fmt: str = "csv",
                   prefix: str = "wp_") -> list[Path]:
    """Write each table as `{prefix}bkntc_<table>.<fmt>` (options as `{prefix}options`); each file appears whole.

    Booknetic files of this prefix that the new snapshot does not contain are removed, so the folder reads as it.
    """
    if fmt not in ("csv", "parquet"):
        raise UserError(f"unknown snapshot format {fmt!r}: use csv or parquet")
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create {folder}: {exc.strerror}") from None
    written = []
    for name, table in tables.items():
        path = folder / f"{TABLES[name].table_name(prefix)}.{fmt}"
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.")
        os.close(handle)
        try:
            if fmt == "csv":
                write_csv(table, Path(temporary))
            else:
                pq.write_table(table, temporary, compression="zstd")
            os.replace(temporary, path)
        finally:
            Path(temporary).unlink(missing_ok=True)
        written.append(path)
    for spec in TABLES.values():  # an earlier snapshot's other format or extra table would shadow this one
        for suffix in (".csv", ".parquet"):
            stale = folder / f"{spec.table_name(prefix)}{suffix}"
            if stale not in written:
                stale.unlink(missing_ok=True)
    return written


def load_mysql(tables: dict[str, pa.Table], url: str) -> None:
    """Create Booknetic's tables (MySQL types, Booknetic names) in the database of `url` and bulk-load them."""
    from orchestration.source.mysql import load_tables

    load_tables(tables, url)


def as_of_default() -> datetime:
    """Now, UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)
