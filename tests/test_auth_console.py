"""The console's door (AppTest): no page before sign-in, pages by role, the tenant from the signed-in user
whatever the session state says, sign-out and a disabled user signed out at the next action."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from console import ui
from orchestration.auth import users
from orchestration.cli import main
from orchestration.ledger import Ledger
from orchestration.ledger.suppression import SuppressionList
from tests import test_console
from tests.signed_in import PASSWORD, ensure_user, sign_in_as
from tests.test_console import APP, make_campaign, texts

demo_template, demo = test_console.demo_template, test_console.demo  # the console tests' demo home fixtures

ANALYST = "analyst1@example.com"


def app_as(home, email: str | None, role: str = "analyst", tenant: int | None = 1, **state) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=60)
    if email:
        app.session_state[ui.SESSION_KEY] = sign_in_as(home, email, role, tenant)
    for key, value in state.items():
        app.session_state[key] = value
    return app.run()


def test_no_page_runs_before_sign_in(demo):
    app = app_as(demo, None)
    assert [t.value for t in app.title] == ["Sign in"] and not app.sidebar.selectbox and not app.exception


def test_the_sign_in_form_refuses_a_wrong_password_then_signs_in(demo):
    ensure_user(demo, ANALYST, "analyst", 1)
    app = app_as(demo, None)
    app.text_input(key="auth_email").input(ANALYST)
    app.text_input(key="auth_password").input("not the password")
    app.button(key="auth_sign_in").click().run()
    assert [e.value for e in app.error] == ["Wrong email or password."] and app.title[0].value == "Sign in"
    app.text_input(key="auth_email").input(ANALYST)
    app.text_input(key="auth_password").input(PASSWORD)
    app.button(key="auth_sign_in").click().run()
    assert app.title[0].value == "Audience" and not app.exception


def test_an_analyst_stays_on_its_tenant_whatever_the_session_state_says(demo):
    make_campaign(demo, 1, "Tenant one campaign")
    make_campaign(demo, 2, "Tenant two campaign")
    SuppressionList(Ledger(demo.ledger), 2).add("+14155559999", reason="tenant two only")
    app = app_as(demo, ANALYST, tenant_id=2)  # a replayed or forged choice of tenant 2
    [only] = app.sidebar.selectbox(key=ui.TENANT_KEY).options
    assert only.endswith("tenant 1") and app.sidebar.selectbox(key=ui.TENANT_KEY).disabled
    for page in ("campaigns", "logs", "suppression"):
        app.switch_page(f"views/{page}.py").run()
        shown = texts(app)
        assert "Tenant two campaign" not in shown and "+14155559999" not in shown, page
    app.switch_page("views/campaigns.py").run()
    assert "Tenant one campaign" in texts(app)  # the check above sees what a page shows


def test_an_analyst_has_no_settings_users_or_audit_log_page_to_open(demo):
    app = app_as(demo, ANALYST)
    for page in ("settings", "users", "audit"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            app.switch_page(f"views/{page}.py")
    app = app_as(demo, "admin1@example.com", "admin", 1)
    assert app.switch_page("views/settings.py").run().title[0].value == "Settings"  # the same path, for an admin


def test_a_disabled_user_is_signed_out_at_the_next_action(demo):
    app = app_as(demo, ANALYST)
    assert app.title[0].value == "Audience"
    assert CliRunner().invoke(main, ["user", "disable", "--email", ANALYST]).exit_code == 0
    app.run()
    assert app.title[0].value == "Sign in" and ui.SESSION_KEY not in app.session_state


def test_sign_out_ends_the_session_for_good(demo):
    app = app_as(demo, ANALYST)
    session = app.session_state[ui.SESSION_KEY]
    app.sidebar.button(key="auth_sign_out").click().run()
    assert app.title[0].value == "Sign in"
    app.session_state[ui.SESSION_KEY] = session  # the old session object, replayed
    assert app.run().title[0].value == "Sign in"


def test_an_admin_sees_its_tenants_audit_log_and_an_operator_every_tenants(demo):
    ensure_user(demo, "admin2@example.com", "admin", 2)
    SuppressionList(Ledger(demo.ledger), 2).add("+14155559999")
    app = app_as(demo, "admin1@example.com", "admin", 1)
    SuppressionList(Ledger(demo.ledger), 1).add("+14155550100")
    shown = texts(app.switch_page("views/audit.py").run())
    assert "+14155550100" in shown and "admin1@example.com" in shown
    assert "+14155559999" not in shown and "admin2@example.com" not in shown and not app.toggle
    app = app_as(demo, "operator@example.com", "operator", None)
    app.switch_page("views/audit.py").run().toggle(key="aud_log_every").set_value(True).run()
    shown = texts(app)
    assert "+14155550100" in shown and "+14155559999" in shown and "admin2@example.com" in shown


def test_an_admin_adds_an_analyst_lets_analysts_launch_and_disables_the_analyst(demo):
    app = app_as(demo, "admin1@example.com", "admin", 1).switch_page("views/users.py").run()
    app.text_input(key="usr_add_email").input("new@example.com")
    app.text_input(key="usr_add_password").input(PASSWORD)
    app.button(key="usr_add").click().run()
    assert not app.error and users.get_user(Ledger(demo.ledger), "new@example.com").tenant_id == 1
    app.toggle(key="usr_may_launch").set_value(True).run()
    assert users.analysts_may_launch(Ledger(demo.ledger), 1) and not users.analysts_may_launch(Ledger(demo.ledger), 2)
    app.selectbox(key="usr_pick").set_value("new@example.com").run()
    app.button(key="usr_disable").click().run()
    assert users.get_user(Ledger(demo.ledger), "new@example.com").disabled
    assert [u.email for u in users.list_users(Ledger(demo.ledger), 2)] == []  # nothing written to tenant 2
