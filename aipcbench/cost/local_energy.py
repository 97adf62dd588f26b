"""A local run's electricity when the run did not measure its energy: estimated from a power
figure and labelled, or said to be unknown, never a silent $0."""

from __future__ import annotations

from aipcbench.cost.evidence import MeasuredCell
from aipcbench.cost.machine import MachineProfile


def local_energy(local: MeasuredCell, machine: MachineProfile) -> tuple[float | None, str | None, str]:
    """Energy per run on this machine, its method and a note: measured, else the profile's power x
    run time, else the device's rated power x run time (labelled), else unknown and said so,
    never a silent $0."""
    record, seconds = local.record, local.seconds
    if record.energy_per_run_j is not None:
        note = (
            "local energy is an estimate (rated power x utilisation)"
            if record.energy_method == "estimate-tdp"
            else ""
        )
        return record.energy_per_run_j, record.energy_method, note
    if machine.power_w:
        note = f"local energy not measured: the profile's {machine.power_w:g} W x run time (estimated)"
        return machine.power_w * seconds, "estimate-power-x-time", note
    if local.spec is not None and local.spec.tdp_w:
        note = (
            f"local energy not measured: the {local.spec.name}'s rated {local.spec.tdp_w:g} W x run time "
            "(estimated; the rest of the machine not counted)"
        )
        return local.spec.tdp_w * seconds, "estimate-rated-power", note
    return (
        None,
        None,
        "local energy not measured and no power known: electricity not counted (power_w in --machine)",
    )
