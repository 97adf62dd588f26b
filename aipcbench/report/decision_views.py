"""The decision for a plan as text: the one sentence first, then every option's month."""

from __future__ import annotations

from aipcbench.cost.cash import npv
from aipcbench.cost.decide import Decision, the
from aipcbench.numbers import usd
from aipcbench.report.formatters import safe_text, text_table


def option_rows(decision: Decision) -> list[dict]:
    """Every option's month, and its total over the horizon (the first candidate's lifetime)."""
    months = horizon_months(decision)
    rows = []
    for option in decision.options:
        machines = option.machines() if option.kind == "own" else None
        rows.append(
            {
                "option": option.name,
                "kind": option.kind,
                "accelerator": option.accelerator,
                "usd_per_month": option.monthly_usd(),
                "usd_per_month_low": option.monthly_usd(1.0, "low"),
                "usd_per_month_high": option.monthly_usd(1.0, "high"),
                "busy_hours_per_month": option.busy_hours(),
                "hours_available_per_month": option.available_hours(),
                "machines_needed": machines,
                "tco_usd": option.tco_usd(months) if option.kind == "own" else option.monthly_usd() * months,
                "evidence": "estimated" if option.estimated else "measured",
                "reserved": option.reserved,
            }
        )
    return rows


def rent_terms_of(decision: Decision):
    """The renting terms the rentals were priced under (``cost.sessions``), if any."""
    return next((o.terms for o in decision.options if o.terms is not None), None)


def present_value_line(decision: Decision) -> str:
    """Owning and renting in today's money over the horizon, where the user gave a discount
    rate (``cost.cash``); empty otherwise (then the month x months is the same figure)."""
    own, rent = decision.best_own, decision.cheapest_rent
    rate = own.machine.cash.discount_rate if own is not None and own.machine else 0.0
    if not rate:
        return ""
    months = horizon_months(decision)
    text = f"present value over {months:.0f} months at {rate:.0%} a year: owning {the(own.name)} "
    text += usd(npv(own.monthly_usd(), rate, months))
    if rent is not None:
        text += f", renting {rent.name} {usd(npv(rent.monthly_usd(), rate, months))}"
    return text


def horizon_months(decision: Decision) -> float:
    own = decision.best_own
    return 12.0 * own.machine.lifetime_years if own is not None and own.machine else 36.0


def text(decision: Decision, rentals_shown: int = 8) -> str:
    lines = [safe_text(decision.sentence), f"plan: {safe_text(decision.plan.source)}"]
    for item in decision.plan.items:
        lines.append(safe_text(f"  {item.label}: {item.runs_per_month:,.1f} runs a month"))
    terms = rent_terms_of(decision)
    if terms is not None:
        lines.append(safe_text(terms.describe()))
        lines += [safe_text(f"  assumption: {a}") for a in terms.assumed]
    scale = decision.break_even_scale
    if scale is not None:
        at = f"{scale:,.0f} times the plan" if scale >= 10 else f"{scale:.0%} of the plan"
        lines.append(
            safe_text(f"break-even: owning {the(decision.best_own.name)} and renting cost the same at {at}")
        )
    months = horizon_months(decision)
    present = present_value_line(decision)
    if present:
        lines.append(safe_text(present))
    table = [
        (
            "option",
            "kind",
            "per month (range)",
            f"TCO {months:.0f} months",
            "busy h/month",
            "machines",
            "run times",
        )
    ]
    shown = [o for o in decision.options if o.kind == "own"]
    shown += [o for o in decision.options if o.kind == "rent"][:rentals_shown]
    # the cheapest quoted reservation, so the plan's [rent] reserved_discount is always answered
    shown += [o for o in decision.options if o.reserved and o not in shown][:1]
    for option in shown:
        low, high = option.monthly_usd(1.0, "low"), option.monthly_usd(1.0, "high")
        spread = f" ({usd(low)}-{usd(high)})" if abs(high - low) > 0.005 else ""
        machines = str(option.machines()) if option.kind == "own" else "-"
        tco = option.tco_usd(months) if option.kind == "own" else option.monthly_usd() * months
        table.append(
            (
                option.name,
                option.kind,
                usd(option.monthly_usd()) + spread,
                usd(tco),
                f"{option.busy_hours():,.1f}",
                machines,
                "estimated" if option.estimated else "measured",
            )
        )
    lines += text_table(table, indent="  ")
    if decision.unpriced_offers:
        lines.append(f"  {decision.unpriced_offers} offer(s) could not price the plan (no run time there)")
    if mix_line(decision):
        lines.append(safe_text(mix_line(decision)))
    lines += tornado_text(decision)
    return "\n".join(lines)


def range_line(decision: Decision) -> str:
    """The answer's range in one line: each side's month at the ends of the run-time estimates."""
    parts = []
    for label, option in (("owning", decision.best_own), ("renting", decision.cheapest_rent)):
        if option is not None:
            low, high = option.monthly_usd(1.0, "low"), option.monthly_usd(1.0, "high")
            parts.append(f"{label} {usd(min(low, high))}-{usd(max(low, high))}")
    return f"Range a month: {', '.join(parts)} (run times at the ends of their ranges)" if parts else ""


def mix_line(decision: Decision) -> str:
    """The cheapest mix of owning and renting (``cost.hybrid``), where the plan has a profile
    over the year or a mix beats both pure answers; empty otherwise."""
    mix = decision.mix
    return mix.sentence() if mix is not None and (decision.plan.profile or mix.beats_both) else ""


def _signed(value: float) -> str:
    return ("-" if value < 0 else "+") + usd(abs(value))


def tornado_text(decision: Decision) -> list[str]:
    """Each input moved on its own (``cost.flips``): owning's month minus renting's at each end."""
    if not decision.swings:
        return []
    base = decision.best_own.monthly_usd() - decision.cheapest_rent.monthly_usd()
    lines = [
        f"what moves the answer: owning minus renting a month, {_signed(base)} as planned "
        "(below 0: owning wins)"
    ]
    table = [("input", "low", "own - rent", "high", "own - rent", "flips at")]
    for s in decision.swings:
        table.append(
            (
                s.name,
                s.low_words,
                _signed(s.low_margin_usd),
                s.high_words,
                _signed(s.high_margin_usd),
                s.flip_words or "-",
            )
        )
    return lines + text_table([tuple(safe_text(c) for c in row) for row in table], indent="  ")
