"""The door to Twilio: `Gateway` sends and reconciles through the official library; `classify` says what to do."""

from orchestration.gateway.errors import Action, classify, classify_error
from orchestration.gateway.gateway import Gateway, GatewayError, SendResult

__all__ = ["Action", "Gateway", "GatewayError", "SendResult", "classify", "classify_error"]
