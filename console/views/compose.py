"""Compose: write or pick a template, insert shortcodes, and see it rendered for real recipients with its cost."""

from __future__ import annotations

import streamlit as st

from console import ui
from orchestration.audiences import SEGMENTS
from orchestration.messages import SHORTCODES, count_segments, render, validate_template
from orchestration.messages import templates as template_store

NEW = "__new__"
STARTER = "Hi {customer_first_name}, we miss you at {company_name}! Book your next visit today."


def load_template(templates: dict[str, str]) -> None:
    chosen = st.session_state["cmp_template"]
    if chosen != NEW:
        st.session_state["cmp_body"] = templates[chosen]
        st.session_state["cmp_name"] = chosen


def insert_shortcode() -> None:
    code = st.session_state.get("cmp_shortcode")
    if code:
        body = st.session_state.get("cmp_body", "")
        spacer = "" if not body or body.endswith((" ", "\n")) else " "
        st.session_state["cmp_body"] = f"{body}{spacer}{{{code}}}"


def editor(tenant: int) -> str:
    templates = {t.name: t.body for t in ui.attempt(
        "reading the templates", lambda: template_store.list_templates(ui.ledger(), tenant)) or []}
    ui.remember("cmp_template", NEW)
    if st.session_state["cmp_template"] not in (NEW, *templates):
        st.session_state["cmp_template"] = NEW
    st.selectbox(
        "Template", [NEW, *templates], key="cmp_template", on_change=load_template, args=(templates,),
        format_func=lambda name: "New message" if name == NEW else name,
    )
    ui.remember("cmp_body", st.session_state.get(ui.MESSAGE) or STARTER)
    body = st.text_area("Message", key="cmp_body", height=170,
                        placeholder="Hi {customer_first_name}, ...")
    pick, button = st.columns([3, 1], vertical_alignment="bottom")
    pick.selectbox(
        "Shortcode", list(SHORTCODES), key="cmp_shortcode",
        format_func=lambda code: f"{{{code}}} — {SHORTCODES[code]}",
    )
    button.button("Insert", icon=":material/add:", on_click=insert_shortcode, width="stretch", key="cmp_insert")
    ui.keep("cmp_template", "cmp_body")
    st.session_state[ui.MESSAGE] = body
    return body


def save_form(tenant: int, body: str) -> None:
    with st.form("cmp_save", border=False):
        name_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
        ui.remember("cmp_name", "")
        name = name_col.text_input("Template name", key="cmp_name", placeholder="e.g. Win-back, spring")
        saved = button_col.form_submit_button("Save template", icon=":material/save:", width="stretch",
                                              key="cmp_save")
    ui.keep("cmp_name")
    if saved:
        template = ui.attempt("saving the template", lambda: template_store.save(ui.ledger(), tenant, name, body))
        if template is not None:
            st.success(f"Template “{template.name}” saved.", icon=":material/check_circle:")


def live_preview(tenant: int, body: str) -> None:
    query = ui.chosen_audience(tenant)
    preview = ui.cached_preview(query, sample=20)
    if preview is None:
        return
    company = ui.company(tenant)
    rendered = [render(body, row, company) for row in preview.sample.head(3).to_dict("records")]
    st.markdown(f"**Preview** — {SEGMENTS[query.segment].label.lower()}, first recipients")
    if not rendered:
        st.info("This audience has no recipients: pick another one on the Audience page.",
                icon=":material/group_off:")
        return
    for row, text in zip(preview.sample.head(3).to_dict("records"), rendered, strict=False):
        with st.chat_message("user", avatar=":material/sms:"):
            st.caption(f"To {row['full_name'] or 'customer'} · {row['phone_e164']}")
            st.text(text)
    every = [count_segments(render(body, row, company)) for row in preview.sample.to_dict("records")]
    first = every[0]
    per_message = sum(c.segments for c in every) / len(every)
    cols = st.columns(2) + st.columns(2)
    cols[0].metric("Encoding", first.encoding, border=True,
                   help="GSM-7 fits 160 characters per SMS; one emoji or accented letter outside it "
                        "switches the whole message to UCS-2 (70 per SMS).")
    cols[1].metric("Characters", ui.number(first.characters), border=True)
    cols[2].metric("SMS per message", f"{per_message:.1f}".rstrip("0").rstrip("."), border=True)
    cols[3].metric("Campaign total (est.)", ui.number(round(per_message * preview.count)), border=True,
                   help=f"About {per_message:.2f} SMS segments × {ui.number(preview.count)} recipients. "
                        "The exact figure is shown before you send.")
    if len({c.encoding for c in every}) > 1:
        st.warning("Some recipients' names switch the message to UCS-2 (more SMS per message).",
                   icon=":material/translate:")
    st.caption("Dates and times render in UTC. A shortcode without a value renders empty; write "
               "{code|fallback} for a default, e.g. {customer_first_name|there}.")


tenant = ui.tenant_id()
ui.page_header("Compose", "Write the message once; shortcodes fill in each customer's own details.")
left, right = st.columns([1, 1], gap="large")
with left:
    body = editor(tenant)
    problems = validate_template(body)
    if problems:
        st.error("This message cannot be sent yet: " + "; ".join(problems) + ".", icon=":material/error:")
    save_form(tenant, body)
with right:
    if not problems and ui.require_warehouse():
        live_preview(tenant, body)
