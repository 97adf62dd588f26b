"""From results, catalog and the user's candidates and plan to one decision (``cost.decide``).

Candidates are the ``--machine`` files and ``--preset`` keys (the first one is also the machine
of the per-run view); each is priced on the plan with its own accelerator's run times from the
evidence ladder, never the host's speed unless its accelerator is the one measured here.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from aipcbench.catalog import Catalog
from aipcbench.config import PricingConfig
from aipcbench.cost.compare import CellComparison, compare
from aipcbench.cost.decide import Decision, decide, own_option
from aipcbench.cost.flips import with_flips
from aipcbench.cost.hybrid import with_mix
from aipcbench.cost.machine import MachineProfile, build_profile, load_profile
from aipcbench.cost.plan import default_plan, read_plan
from aipcbench.cost.rentals import rent_options
from aipcbench.cost.serve_decide import ServeDecision, decide_serving
from aipcbench.cost.sessions import rent_terms
from aipcbench.cost.training_fold import with_training
from aipcbench.cost.training_items import TrainingAnswer, answer_training, measured_fine_tunes
from aipcbench.results.store import ResultsDocument
from aipcbench.units import SECONDS_PER_DAY


@dataclass(frozen=True)
class Advice:
    machine: MachineProfile  # the first candidate: the per-run view's machine
    comparisons: list[CellComparison]
    candidates: tuple[MachineProfile, ...]
    decision: Decision | None
    notes: tuple[str, ...]  # candidates or cells that could not be priced, said
    serving: tuple[ServeDecision, ...] = ()  # one per [[serve]] item of the plan
    training: tuple[TrainingAnswer, ...] = ()  # one per [[pretrain]] and [[finetune]] item


def candidates(pricing: PricingConfig, catalog: Catalog) -> list[MachineProfile]:
    first = load_profile(pricing.machine_file, pricing.machine_values, catalog)
    more = [load_profile(path, {}, catalog) for path in pricing.more_machines]
    more += [
        build_profile({"preset": key}, catalog, f"--preset {key}", {"preset": "--preset"}, {"preset"})
        for key in pricing.more_presets
    ]
    return [first, *more]


def _tokens_per_run(documents: list[ResultsDocument], host: str) -> dict[tuple[str, str, str], float | None]:
    cells: dict[tuple[str, str, str], float | None] = {}
    for document in documents:
        if document.host != host:
            continue
        for record in document.records:
            if record.measured and record.mode not in (None, "overhead") and not record.world_size:
                tokens = record.run.items_per_run if record.mode == "generate" else None
                cells[(record.workload, record.size, record.dtype)] = tokens
    return cells


def startup_seconds(documents: list[ResultsDocument], given: float | None) -> tuple[float, str | None]:
    """Start-up billed per cloud run: ``--startup-s`` when given, else the median provisioning
    and set-up time that ``aipcbench cloud run`` measured (``environment.cloud``), else 0."""
    if given is not None:
        return given, None
    measured = []
    for document in documents:
        cloud = document.environment.get("cloud") if isinstance(document.environment, dict) else None
        value = cloud.get("provision_and_setup_s") if isinstance(cloud, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < SECONDS_PER_DAY:
            measured.append(float(value))
    if not measured:
        return 0.0, None
    median = statistics.median(measured)
    return median, (
        f"cloud start-up: {median:.0f} s billed per run, the median provisioning and set-up time of "
        f"{len(measured)} aipcbench cloud run(s) (--startup-s 0 for an instance already up)"
    )


def advise(documents: list[ResultsDocument], catalog: Catalog, pricing: PricingConfig) -> Advice:
    machines = candidates(pricing, catalog)
    skipped: list[str] = []
    startup_s, startup_note = startup_seconds(documents, pricing.startup_s)
    per_machine = [compare(documents, catalog, m, pricing.local_host, startup_s, skipped) for m in machines]
    host = pricing.local_host or documents[-1].host
    measured = _tokens_per_run(documents, host)
    if pricing.plan is not None:
        plan = read_plan(pricing.plan, measured, {m.key for m in catalog.model_configs})
    else:
        plan = default_plan(sorted(measured))
    notes = list(dict.fromkeys(skipped)) + ([startup_note] if startup_note else [])
    owns = []
    for machine, comparisons in zip(machines, per_machine):
        option = own_option(plan, machine, comparisons)
        if option is None:
            notes.append(
                f"{machine.name}: the plan cannot be priced on it (a plan cell has no run time there)"
            )
        else:
            owns.append(option)
    planned = {(i.workload, i.size, i.dtype) for i in plan.items}
    cells = [c for c in per_machine[0] if (c.workload, c.size, c.dtype) in planned and not c.world_size]
    known = startup_s if (startup_note or pricing.startup_s is not None) else None
    terms = rent_terms(plan.rent, cells, known, startup_note or "--startup-s")
    rents, unpriced = rent_options(plan, per_machine[0], terms, catalog) if per_machine else ([], 0)
    decision = decide(plan, owns, rents, unpriced) if plan.items else None
    decision = with_mix(with_flips(decision, owns, rents), owns, rents)
    records = [record for document in documents for record in document.serving]
    serving = [decide_serving(item, catalog, records, machines) for item in plan.serve]
    for answer in serving:
        notes += list(answer.notes) if answer else []
    here = measured_fine_tunes(per_machine[0]) if per_machine else {}
    training = tuple(answer_training(catalog, item, machines, here) for item in plan.training)
    decision = with_training(decision, training)
    return Advice(
        machines[0],
        per_machine[0],
        tuple(machines),
        decision,
        tuple(notes),
        tuple(s for s in serving if s),
        training,
    )
