"""SMS credits: a metered tenant's balance in segments, its top-ups, and what its sends consume."""

from orchestration.credits.account import (
    OUT_OF_CREDITS,
    CreditStatement,
    balance,
    campaign_cost,
    campaign_used,
    refuse_short,
    shortfall,
    statement,
    topup,
)

__all__ = ["OUT_OF_CREDITS", "CreditStatement", "balance", "campaign_cost", "campaign_used", "refuse_short",
           "shortfall", "statement", "topup"]
