"""Which KPIs each table of the comparison report shows, and in which order.

A board pack does not print every number the ledgers hold: the first page
shows a dozen headline figures, and the people, customer and cost pages each
their own short list, always in the same order so that one quarter's pack
reads like the last. These are those lists (``HEADLINE_KPIS``,
``PEOPLE_KPIS``, ``CUSTOMER_KPIS``, ``COST_KPIS``), each also with the
registry entries of its KPIs (``sim.analysis.kpis``); ``headline_kpis`` and
``comparison_kpis`` pick the KPIs a given run actually has (a role's
utilisation only where some structure has the role).
"""

from __future__ import annotations

import pandas as pd

from sim.analysis.kpis import KPIS, KpiSpec
from sim.config.scenario import ROLES, STAGES

HEADLINE_KPIS: tuple[str, ...] = (
    "wins_per_30_days",
    "conversion",
    *(f"conversion_{stage}" for stage in STAGES),
    "dropped_handoff_to_qualification",
    "dropped_handoff_to_closing",
    "dropped_handoff_to_pod",
    "accounts_dropped_in_handoff",
    "p50_days_to_close",
    "p90_days_to_close",
    *(f"utilisation_{role}" for role in ROLES),
    "share_reps_at_quota",
    "annual_turnover",
    "vacancy_share",
    "lost_rep_left",
    "revenue",
    "cost",
    "profit",
    "arr_at_end",
    "book_value_at_end",
    "profit_with_book",
    "roi",
    "cost_per_won_deal",
    "new_hire_payback_days",
)
"""The headline KPIs in table order (utilisation rows only for roles present)."""


PEOPLE_KPIS: tuple[str, ...] = (
    "headcount",
    *(f"headcount_{role}" for role in ROLES),
    "managers",
    "hires",
    "leavers",
    "annual_turnover",
    "vacancy_share",
    "mean_ramp_factor",
    "weak_performer_share",
    "lost_rep_left",
    "share_reps_at_quota",
    *(f"share_at_quota_{role}" for role in ROLES),
    *(f"mean_attainment_{role}" for role in ROLES),
)
"""People KPIs in the order of the report's people table (rows only for KPIs present)."""


CUSTOMER_KPIS: tuple[str, ...] = (
    "market_share",
    "lost_to_competitor",
    "key_account_conversion",
    "mean_days_to_go_live",
    "p90_days_to_go_live",
    "late_go_live_share",
    "advocates_at_end",
    "advocate_share",
    "referral_leads",
    "referral_share",
    "referral_wins",
    "outbound_leads",
    "outbound_share",
    "outbound_wins",
    "conversion_inbound",
    "conversion_outbound",
    "outbound_leads_per_prospector_per_30_days",
)
"""Customer-side KPIs in the order of the report's customers table (rows only if present)."""


COST_KPIS: tuple[str, ...] = (
    "salary_cost",
    "commission_cost",
    "bonus_cost",
    "manager_cost",
    "overhead_cost",
    "hiring_cost",
    "cost",
    "revenue",
    "gross_profit",
    "profit",
    "book_value_at_end",
    "profit_with_book",
    "roi",
    "cost_per_won_deal",
    "revenue_per_rep",
    "new_hire_payback_days",
)
"""Money KPIs in the order of the report's cost table: each cost, then what it bought."""


HEADLINE_SPECS: dict[str, KpiSpec] = {kpi: KPIS[kpi] for kpi in HEADLINE_KPIS}
PEOPLE_SPECS: dict[str, KpiSpec] = {kpi: KPIS[kpi] for kpi in PEOPLE_KPIS}
CUSTOMER_SPECS: dict[str, KpiSpec] = {kpi: KPIS[kpi] for kpi in CUSTOMER_KPIS}
COST_SPECS: dict[str, KpiSpec] = {kpi: KPIS[kpi] for kpi in COST_KPIS}
"""Each table's KPIs with their registry entries (``sim.analysis.kpis``), in table order."""


def headline_kpis(kpis: pd.DataFrame) -> list[str]:
    """The headline KPIs this KPI table has, in headline order.

    Args:
        kpis: the per-run table of ``kpi_values.run_kpis``.

    Returns:
        KPI names; a role's utilisation only if some structure has the role.
    """
    return [k for k in HEADLINE_SPECS if k in kpis.columns and kpis[k].notna().any()]


def comparison_kpis(kpis: pd.DataFrame) -> list[str]:
    """Every numeric KPI of the table: headline ones first, then the rest in table order."""
    head = headline_kpis(kpis)
    rest = [
        c
        for c in kpis.columns
        if c not in ("structure", "replication")
        and c not in head
        and pd.api.types.is_numeric_dtype(kpis[c])
    ]
    return head + rest
