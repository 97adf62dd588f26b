"""Where the answer flips: each input of the decision moved on its own (a tornado), and the
nearest change that turns buy into rent or back.

The margin is the best owned option's month minus the cheapest rental's that may win
(on-demand, and spot where the plan tolerates it; below 0: owning wins). Each input moves
between a stated low and high, everything else as planned:

    purchase price x0.7 .. x1.3        hours of use a day x0.5 .. x2 (at most 24)
    lifetime x0.67 .. x1.67            residual value 0 .. 50 % of the price (with a resale
                                       curve: its slow and fast ends; a lifetime moved moves
                                       the residual along the curve)
    electricity price x0.5 .. x2       discount rate 0 .. 15 % a year
    rental prices x0.7 .. x1.3         rented sessions' set-up and idle x0 .. x3
    the plan's size x0.5 .. x2         run times at the low and high ends of their ranges

An input flips the answer when the margin's sign at one end differs from the plan's. Where it
does, the flip point is found by bisection between the plan's value and that end; the nearest
flip is the one closest to the plan as a share of its input's range, and the answer names it.
Pure; pinned in tests/test_flips.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from aipcbench.cost.decide import Decision, Line, Option, rentable
from aipcbench.cost.resale import residual_fraction
from aipcbench.numbers import usd

Options = tuple[list[Option], list[Option], float, str]  # owns, rents, plan scale, run-time end
BISECTIONS = 30


@dataclass(frozen=True)
class Swing:
    """One input's row of the tornado: the margin at each end, and where it flips."""

    name: str
    low_words: str
    high_words: str
    low_margin_usd: float
    high_margin_usd: float
    flip_words: str = ""  # where the answer flips, if it does within the range
    flip_distance: float | None = None  # as a share of the input's range from the plan's value

    @property
    def swing_usd(self) -> float:
        return abs(self.high_margin_usd - self.low_margin_usd)


@dataclass(frozen=True)
class Input:
    name: str
    plan_value: float
    low: float
    high: float
    apply: Callable[[float], Options]
    words: Callable[[float], str]


def _scaled_line(line: Line, factor: float) -> Line:
    return replace(line, usd_per_run={end: v * factor for end, v in line.usd_per_run.items()})


def _own_with(owns: list[Option], best: Option, **machine) -> list[Option]:
    """The owned options with the best one's machine changed (the others as they are: a price
    or an hour of use is a property of one candidate, and another may become the best)."""
    return [replace(o, machine=replace(o.machine, **machine)) if o is best else o for o in owns]


def inputs(decision: Decision, owns: list[Option], rents: list[Option]) -> list[Input]:
    """Longer than 60 lines: the table of inputs in the module docstring, one entry each, each
    with how it changes the options and how its value is said."""
    best = decision.best_own
    m = best.machine

    def own_machine(**values) -> Options:
        return (_own_with(owns, best, **values), rents, 1.0, "central")

    def electricity(k: float) -> Options:
        """The best machine's price per kWh x k: its idle draw (the profile) and its runs (lines)."""
        machine = replace(m, electricity_usd_per_kwh=m.electricity_usd_per_kwh * k)
        lines = tuple(_scaled_line(x, k) for x in best.lines)
        return (
            [replace(o, machine=machine, lines=lines) if o is best else o for o in owns],
            rents,
            1.0,
            "central",
        )

    def rental(k: float) -> Options:
        priced = [
            replace(
                r, usd_per_hour=(r.usd_per_hour or 0) * k, lines=tuple(_scaled_line(x, k) for x in r.lines)
            )
            for r in rents
        ]
        return (owns, priced, 1.0, "central")

    def sessions(k: float) -> Options:
        timed = [
            replace(
                r, terms=replace(r.terms, setup_s=r.terms.setup_s * k, idle_tail_s=r.terms.idle_tail_s * k)
            )
            if r.terms
            else r
            for r in rents
        ]
        return (owns, timed, 1.0, "central")

    def cash_rate(rate: float) -> Options:
        return (
            [
                replace(o, machine=replace(o.machine, cash=replace(o.machine.cash, discount_rate=rate)))
                for o in owns
            ],
            rents,
            1.0,
            "central",
        )

    hours_high = min(24.0, m.hours_per_day * 2)

    def resold(years: float) -> float:
        """The residual after ``years``: along the profile's resale curve, else as given."""
        return m.price_usd * residual_fraction(m.resale, years) if m.resale else m.residual_usd

    found = [
        Input(
            "purchase price",
            1.0,
            0.7,
            1.3,
            lambda k: own_machine(
                price_usd=m.price_usd * k,
                residual_usd=m.residual_usd * k if m.resale else min(m.residual_usd, m.price_usd * k),
            ),
            lambda k: f"a purchase price of {usd(m.price_usd * k)}",
        ),
        Input(
            "hours of use a day",
            m.hours_per_day,
            m.hours_per_day / 2,
            hours_high,
            lambda h: own_machine(hours_per_day=h),
            lambda h: f"{h:.1f} hours of use a day",
        ),
        Input(
            "lifetime",
            m.lifetime_years,
            m.lifetime_years * 2 / 3,
            m.lifetime_years * 5 / 3,
            lambda y: own_machine(lifetime_years=y, residual_usd=resold(y)),
            lambda y: f"a lifetime of {y:.1f} years",
        ),
        Input(
            "residual value",
            m.residual_usd / m.price_usd if m.price_usd else 0.0,
            residual_fraction(m.resale, m.lifetime_years, "high") if m.resale else 0.0,
            residual_fraction(m.resale, m.lifetime_years, "low") if m.resale else 0.5,
            lambda s: own_machine(residual_usd=m.price_usd * s),
            lambda s: f"a residual of {s:.0%} of the price",
        ),
        Input(
            "electricity price",
            1.0,
            0.5,
            2.0,
            electricity,
            lambda k: f"electricity at ${m.electricity_usd_per_kwh * k:.3f}/kWh",
        ),
        Input(
            "discount rate",
            m.cash.discount_rate,
            0.0,
            0.15,
            cash_rate,
            lambda r: f"a discount rate of {r:.1%}",
        ),
        Input(
            "rental prices",
            1.0,
            0.7,
            1.3,
            rental,
            lambda k: f"rental prices {abs(k - 1):.0%} {'lower' if k < 1 else 'higher'}",
        ),
        Input(
            "the plan's size",
            1.0,
            0.5,
            2.0,
            lambda s: (owns, rents, s, "central"),
            lambda s: f"{s:.0%} of the plan",
        ),
    ]
    if any(r.terms for r in rents):
        found.append(
            Input(
                "rented sessions' set-up and idle",
                1.0,
                0.0,
                3.0,
                sessions,
                lambda k: f"{k:.1f} times the set-up and idle per session",
            )
        )
    return found


def margin(options: Options) -> float | None:
    """Best owned month minus cheapest rental month (those that may win); None without both."""
    owns, rents, scale, end = options
    if not owns or not rents:
        return None
    own = min(o.monthly_usd(scale, end) for o in owns)
    return own - min(r.monthly_usd(scale, end) for r in rents)


def swing(item: Input, base: float) -> Swing | None:
    low, high = margin(item.apply(item.low)), margin(item.apply(item.high))
    if low is None or high is None:
        return None
    flip_words, distance = "", None
    for end, value in ((item.low, low), (item.high, high)):
        if (value < 0) != (base < 0):
            point = _bisect(item, item.plan_value, end, base < 0)
            share = abs(point - item.plan_value) / (item.high - item.low) if item.high != item.low else 0.0
            if distance is None or share < distance:
                flip_words, distance = item.words(point), share
    return Swing(item.name, item.words(item.low), item.words(item.high), low, high, flip_words, distance)


def _bisect(item: Input, inside: float, outside: float, owning_wins: bool) -> float:
    """The input's value where the margin changes sign, between the plan's value and an end."""
    for _ in range(BISECTIONS):
        middle = (inside + outside) / 2
        value = margin(item.apply(middle))
        if value is not None and (value < 0) == owning_wins:
            inside = middle
        else:
            outside = middle
    return (inside + outside) / 2


def run_time_swing(owns: list[Option], rents: list[Option], base: float) -> Swing | None:
    low, high = margin((owns, rents, 1.0, "low")), margin((owns, rents, 1.0, "high"))
    if low is None or high is None:
        return None
    flipped = [end for end, v in (("low", low), ("high", high)) if (v < 0) != (base < 0)]
    words = f"run times at the {flipped[0]} end of their ranges" if flipped else ""
    return Swing("run times", "the low ends", "the high ends", low, high, words, 1.0 if flipped else None)


def swings(decision: Decision, owns: list[Option], rents: list[Option]) -> tuple[Swing, ...]:
    """The tornado, widest swing first; empty without both an owned and a rented option."""
    rents = rentable(decision.plan, rents)
    base = margin((owns, rents, 1.0, "central"))
    if base is None or decision.best_own is None or decision.best_own.machine is None:
        return ()
    found = [swing(item, base) for item in inputs(decision, owns, rents)]
    found.append(run_time_swing(owns, rents, base))
    return tuple(sorted((s for s in found if s is not None), key=lambda s: -s.swing_usd))


def nearest_flip(found: tuple[Swing, ...]) -> Swing | None:
    flipping = [s for s in found if s.flip_distance is not None]
    return min(flipping, key=lambda s: s.flip_distance) if flipping else None


def with_flips(decision: Decision | None, owns: list[Option], rents: list[Option]) -> Decision | None:
    """The decision with its tornado, and the nearest flip named in the answer."""
    if decision is None:
        return None
    found = swings(decision, owns, rents)
    nearest = nearest_flip(found)
    sentence = decision.sentence
    if nearest is not None:
        sentence = sentence.rstrip(".") + f". Nearest flip: {nearest.flip_words}."
    elif found:
        sentence = sentence.rstrip(".") + ". No single input within its range flips it."
    return replace(decision, swings=found, sentence=sentence)
