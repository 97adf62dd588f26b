"""The evidence ladder: how long a cell's run takes on an accelerator, and how we know.

For a cell (workload, size, dtype, world size) and a target accelerator from the catalog:

1. ``measured``: a results file has the cell on a device of that accelerator model (brought back
   from a rented instance, or shipped in results/reference/): the median of those runs;
2. ``estimated``: scaled from the fastest measured device by the ratio of rated peaks at the
   cell's dtype (compute-bound cells), or of memory bandwidth (token generation, which streams
   every weight per token). Cells whose source measurement is overhead-bound (under 5 % of the
   GEMM peak there) are not scaled: a peak ratio would promise a speed-up that dispatch
   overhead forbids, so they are ``not-estimated``.

Torch-free, like everything on the cost and report side.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from aipcbench.catalog import Catalog, DeviceSpec
from aipcbench.results.device_facts import DeviceFacts
from aipcbench.results.record import CellRecord
from aipcbench.results.store import ResultsDocument

OVERHEAD_BOUND_MFU = 0.05

CellKey = tuple[str, str, str, int]  # workload, size, dtype, world size (0: one process)


@dataclass(frozen=True)
class Evidence:
    seconds_per_run: float | None
    method: str  # measured | estimated | not-estimated
    basis: str


@dataclass(frozen=True)
class MeasuredCell:
    """One measured record with what pricing needs from its results file."""

    record: CellRecord
    host: str
    device_name: str
    spec: DeviceSpec | None
    facts: DeviceFacts

    @property
    def seconds(self) -> float:
        return self.record.run.time_s  # type: ignore[union-attr]  # measured cells have one

    @property
    def key(self) -> CellKey:
        """A cell's identity across machines; data-parallel world sizes are priced apart."""
        record = self.record
        return (record.workload, record.size, record.dtype, record.world_size)


def measured_cells(documents: list[ResultsDocument], catalog: Catalog) -> list[MeasuredCell]:
    """Every record with a time per run, except the null workload (it prices the harness)."""
    out = []
    for document in documents:
        for record in document.records:
            if not record.measured or record.mode == "overhead":
                continue
            name = document.device_name(record.device)
            out.append(
                MeasuredCell(
                    record,
                    document.host,
                    name,
                    catalog.spec_for_device_name(name),
                    document.facts(record.device),
                )
            )
    return out


def _source_peak(source: MeasuredCell, dtype: str) -> float | None:
    rated = source.facts.rated_peak_flop_per_s(dtype)
    if rated:
        return rated
    if source.spec is not None and source.spec.peak_tflops(dtype):
        return source.spec.peak_tflops(dtype) * 1e12
    return None


def _source_bandwidth(source: MeasuredCell) -> tuple[float | None, str]:
    if source.spec is not None and source.spec.memory_bw_gbps:
        return source.spec.memory_bw_gbps * 1e9, "rated"
    return source.facts.measured_bandwidth_bytes_per_s, "measured"


def estimate(source: MeasuredCell, target: DeviceSpec | None) -> Evidence:
    """Scale the source's time per run to the target accelerator, or say why not."""
    record, dtype = source.record, source.record.dtype
    where = f"{source.device_name or record.device} on {source.host}"
    if target is None:
        return Evidence(None, "not-estimated", "no spec row for this accelerator in the catalog")
    if record.mode == "generate":
        source_bw, kind = _source_bandwidth(source)
        if not source_bw or not target.memory_bw_gbps:
            return Evidence(None, "not-estimated", "memory bandwidth unknown")
        ratio = target.memory_bw_gbps * 1e9 / source_bw
        basis = (
            f"x{ratio:,.1f} memory bandwidth ({target.memory_bw_gbps:g} GB/s rated vs "
            f"{source_bw / 1e9:.1f} GB/s {kind} on {where}): decoding streams the weights"
        )
        return Evidence(source.seconds / ratio, "estimated", basis)
    mfu = record.flops.mfu_measured if record.flops else None
    if mfu is not None and mfu < OVERHEAD_BOUND_MFU:
        return Evidence(
            None,
            "not-estimated",
            f"overhead-bound on {where} ({mfu:.1%} of its GEMM peak): a peak ratio "
            "would overstate the speed-up",
        )
    source_peak, target_peak = _source_peak(source, dtype), target.peak_tflops(dtype)
    if not source_peak or not target_peak:
        return Evidence(None, "not-estimated", f"no rated {dtype} peak for one side")
    ratio = target_peak * 1e12 / source_peak
    basis = (
        f"x{ratio:,.1f} rated {dtype} peak ({target_peak:g} TFLOP/s vs "
        f"{source_peak / 1e12:.3g} TFLOP/s on {where}): compute-bound"
    )
    return Evidence(source.seconds / ratio, "estimated", basis)


def evidence_for(
    accelerator: str, same_cell: dict[str, list[MeasuredCell]], source: MeasuredCell, catalog: Catalog
) -> Evidence:
    """Measured on ``accelerator`` if any results say so, else estimated from ``source`` (the
    fastest measured GPU for the cell, or the local device)."""
    same_hardware = same_cell.get(accelerator)
    if same_hardware:
        seconds = statistics.median(m.seconds for m in same_hardware)
        hosts = sorted({m.host for m in same_hardware})
        return Evidence(
            seconds,
            "measured",
            f"median of {len(same_hardware)} run(s) on {accelerator} ({', '.join(hosts)})",
        )
    return estimate(source, catalog.spec(accelerator))
