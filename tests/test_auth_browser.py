"""The console's door in a real browser (Chromium): an analyst of tenant 1 reaches nothing of tenant 2 by any
route — the selector, a crafted URL, page paths, a second tab, the downloads — nor the credentials; a user
disabled meanwhile is signed out at the next click. One browser session, several checks."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from orchestration.audiences import AudienceQuery, preview
from orchestration.cli import main
from orchestration.ledger import Ledger
from orchestration.ledger.suppression import SuppressionList
from orchestration.warehouse import Warehouse
from tests import test_console_browser
from tests.signed_in import PASSWORD, ensure_user, sign_in_in_browser
from tests.test_console import make_campaign
from tests.test_console_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.slow]
console_url = test_console_browser.console_url  # the console served by `streamlit run` on a two-tenant home
ANALYST = "analyst1@example.com"
SUPPRESSED_2 = "+14155559999"


def test_an_analyst_of_tenant_1_reaches_nothing_of_tenant_2_by_any_route(console_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url, home = console_url
    ensure_user(home, ANALYST, "analyst", 1)
    make_campaign(home, 1, "Tenant one campaign")
    make_campaign(home, 2, "Tenant two campaign")
    SuppressionList(Ledger(home.ledger), 2).add(SUPPRESSED_2, reason="tenant two only")
    SuppressionList(Ledger(home.ledger), 1).add("+14155550100", reason="tenant one")
    two = preview(Warehouse(home.warehouse), None, AudienceQuery(2, "all_customers"), sample=50).sample
    markers = ["Tenant two campaign", SUPPRESSED_2, "tenant two only", *two["phone_e164"]]

    def shows_nothing_of_tenant_2(text: str) -> None:
        assert not [m for m in markers if m in text]

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
            page = context.new_page()
            # a page path before sign-in shows the sign-in form only
            page.goto(f"{url}/campaigns")
            sign_in_in_browser(page, ANALYST, "not the password")
            expect(page.get_by_text("Wrong email or password.")).to_be_visible(timeout=20_000)
            expect(page.get_by_role("heading", name="Campaigns")).to_have_count(0)

            # a crafted URL: ?tenant=2 on the campaigns page (a new session: sign-in, then the first page)
            page.goto(f"{url}/campaigns?tenant=2")
            sign_in_in_browser(page, ANALYST, PASSWORD)
            expect(page.get_by_role("heading", name="Audience")).to_be_visible(timeout=30_000)
            shows_nothing_of_tenant_2(page.content())
            page.get_by_role("link", name="Campaigns").click()
            expect(page.get_by_text("Tenant one campaign").first).to_be_visible(timeout=30_000)
            shows_nothing_of_tenant_2(page.content())
            selector = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]')
            assert "tenant 1" in selector.inner_html() and "tenant 2" not in selector.inner_html()
            expect(selector.locator("input")).to_be_disabled()  # the selector: one tenant, not changeable

            # downloads: the delivery log and the suppression export
            page.get_by_role("link", name="Delivery log").click()
            with page.expect_download(timeout=30_000) as download:
                page.get_by_role("button", name="Download the whole log (CSV)").click()
            log_csv = tmp_path / "log.csv"
            download.value.save_as(log_csv)
            shows_nothing_of_tenant_2(log_csv.read_text())
            page.get_by_role("link", name="Suppression list").click()
            with page.expect_download(timeout=30_000) as download:
                page.get_by_role("button", name="Export the list (CSV)").click()
            suppression_csv = tmp_path / "suppression.csv"
            download.value.save_as(suppression_csv)
            assert "+14155550100" in suppression_csv.read_text()
            shows_nothing_of_tenant_2(suppression_csv.read_text())

            # no route to the credentials or the audit log: no link, and their paths serve another page
            expect(page.get_by_role("link", name="Settings")).to_have_count(0)
            expect(page.get_by_role("link", name="Audit log")).to_have_count(0)
            for path in ("settings", "audit"):
                page.goto(f"{url}/{path}")
                sign_in_in_browser(page, ANALYST, PASSWORD)
                expect(page.get_by_role("heading", name="Audience")).to_be_visible(timeout=30_000)
                expect(page.get_by_text("Twilio credentials")).to_have_count(0)
                expect(page.get_by_label("Auth token")).to_have_count(0)

            # a second tab of the same browser (its cookies, a replayed URL) gets no session
            other = context.new_page()
            other.goto(f"{url}/campaigns?tenant=2")
            expect(other.get_by_role("heading", name="Sign in")).to_be_visible(timeout=30_000)
            shows_nothing_of_tenant_2(other.content())
            other.close()

            # disabled meanwhile: signed out at the next click
            result = CliRunner().invoke(main, ["--home", str(home.root), "user", "disable", "--email", ANALYST])
            assert result.exit_code == 0, result.output
            page.get_by_role("link", name="Compose").click()
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=30_000)
            sign_in_in_browser(page, ANALYST, PASSWORD)
            expect(page.get_by_text("This account is disabled")).to_be_visible(timeout=20_000)
        finally:
            browser.close()
