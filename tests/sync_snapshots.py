"""Tiny hand-written Booknetic snapshot folders (phpMyAdmin CSV) for the sync tests, with their expected rows."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

AS_OF = datetime(2024, 7, 1, tzinfo=UTC)  # 1719792000

TINY = {
    "customers": """\
"id","first_name","last_name","phone_number","email","birthdate","gender","created_at","tenant_id"
"1","Ada","Lovelace","+12125550123","ada@example.com","1990-12-10","female","2024-01-02 03:04:05",NULL
"2","Bob","","(212) 555-0124","bob@example.com",NULL,"male","2024-02-03",NULL
"3","","",NULL,"",NULL,"",NULL,NULL
"4","Jörg","Müller","030 12345678","joerg@example.de",NULL,"male","2024-03-04 05:06:07","7"
"5","Eve","","not a phone","eve@example.de",NULL,"female","2024-03-05","7"
""",
    "appointments": """\
"id","location_id","service_id","staff_id","customer_id","status","starts_at","ends_at","created_at","client_timezone","paid_amount","payment_status","tenant_id"
"10","1","1","1","1","approved","1717243200","1717246800","1717000000","Europe/Berlin","25.50","paid",NULL
"11","1","1","1","1","canceled","1720000000","1720003600","1719000000",NULL,NULL,"not_paid",NULL
"12","2","2","2","4","pending","1719800000","1719803600","1719700000","",NULL,NULL,"7"
"13","1","1","1","99","approved","1717243200","1717246800","1717000000","",NULL,NULL,NULL
""",
    "services": """\
"id","name","price","category_id","duration","is_active","tenant_id"
"1","Haircut","25.50","1","30","1",NULL
"2","Massage","60.00",NULL,"60","0","7"
""",
    "locations": """\
"id","name","address","phone_number","is_active","tenant_id"
"1","Main Street","1 Main St",NULL,"1",NULL
"2","Berlin","Unter den Linden 1","+49301234567","1","7"
""",
    "staff": """\
"id","name","email","phone_number","profession","is_active","tenant_id"
"1","Sam","sam@example.com","","Stylist","1",NULL
"2","Ute",NULL,NULL,NULL,"1","7"
""",
    "service_categories": """\
"id","name","parent_id","tenant_id"
"1","Hair","0",NULL
""",
    "options": """\
"option_name","option_value"
"bkntc_company_name","Acme Salon"
"bkntc_company_phone","+12125550100"
"bkntc_company_address","1 Main St"
"bkntc_company_website","https://acme.example"
"bkntc_t7_company_name","Berlin Studio"
"bkntc_t7_company_phone","+49301234500"
"blogname","Not a Booknetic option"
""",
}


def write_snapshot(folder: Path, tables: dict[str, str] = TINY, prefix: str = "wp_") -> Path:
    """Writes `{prefix}bkntc_<table>.csv` (and `{prefix}options.csv`) files; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for table, text in tables.items():
        name = f"{prefix}options.csv" if table == "options" else f"{prefix}bkntc_{table}.csv"
        (folder / name).write_text(text, encoding="utf-8")
    return folder
