"""The contract: the parts of Twilio's official OpenAPI (2010-04-01) that the Messages simulator speaks.

`twilio_api_v2010.json` is Twilio's own file (public repository twilio/twilio-oai, spec/json/twilio_api_v2010.json,
commit d50069b44ea8cd23141385bdb6db48f16ff75bb5, 2026-04-14, MIT licence by Twilio). It is loaded once and only the
create request schema and the response schemas of messages and accounts are kept.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

SPEC_FILE = Path(__file__).with_name("twilio_api_v2010.json")
MESSAGES_PATH = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
MESSAGE_SCHEMA = "api.v2010.account.message"
ACCOUNT_SCHEMA = "api.v2010.account"


@dataclass(frozen=True)
class Contract:
    """Create-request properties (with $refs resolved) and the spec's component schemas."""

    create_properties: dict[str, dict[str, Any]]
    list_response: dict[str, Any]
    schemas: dict[str, dict[str, Any]]

    @property
    def message_properties(self) -> tuple[str, ...]:
        return tuple(self.schemas[MESSAGE_SCHEMA]["properties"])

    @property
    def account_properties(self) -> tuple[str, ...]:
        return tuple(self.schemas[ACCOUNT_SCHEMA]["properties"])


def _resolve(schema: dict[str, Any], schemas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    return schemas[ref.rsplit("/", 1)[-1]]


@lru_cache(maxsize=1)
def contract() -> Contract:
    """The contract, read from the spec file on first use."""
    spec = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    schemas = spec["components"]["schemas"]
    messages = spec["paths"][MESSAGES_PATH]
    request = messages["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    properties = {name: _resolve(prop, schemas) for name, prop in request["properties"].items()}
    list_response = messages["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    wanted = ("api.v2010.account", "message_enum", "account_enum")
    keep = {name: schema for name, schema in schemas.items() if name.startswith(wanted)}
    return Contract(properties, list_response, keep)


_TRUE_FALSE = {"true", "false"}


def _value_error(name: str, value: str, schema: dict[str, Any]) -> str | None:
    """Why one form value breaks its property schema, or None."""
    kind = schema.get("type")
    if kind == "array":
        return _value_error(name, value, schema.get("items", {}))
    if "enum" in schema and value not in schema["enum"]:
        return f"{name} must be one of {', '.join(schema['enum'])}"
    if kind == "boolean" and value.lower() not in _TRUE_FALSE:
        return f"{name} must be true or false"
    if kind == "integer" and not re.fullmatch(r"-?\d+", value):
        return f"{name} must be an integer"
    if kind == "number":
        try:
            float(value)
        except ValueError:
            return f"{name} must be a number"
    if kind == "string":
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", len(value)):
            return f"{name} has the wrong length"
        if "pattern" in schema and not re.search(schema["pattern"], value):
            return f"{name} is not a valid identifier"
    return None


def schema_problems(form: dict[str, list[str]], strict: bool) -> list[str]:
    """Problems of a create form against CreateMessageRequest: unknown names (when strict), wrong types/enums."""
    properties = contract().create_properties
    problems = []
    for name, values in form.items():
        schema = properties.get(name)
        if schema is None:
            if strict:
                problems.append(f"Unknown parameter {name}")
            continue
        if schema.get("type") != "array" and len(values) > 1:
            problems.append(f"{name} given more than once")
        problems.extend(p for p in (_value_error(name, v, schema) for v in values) if p)
    return problems
