"""Quantized and pruned cells beside their dense fp32 cell: the time ratio measured in the same
results file, and the fidelity each one recorded. A pruned cell that is no faster is shown as
such: dense kernels multiply zeros like any other number."""

from __future__ import annotations

from typing import Any

from aipcbench.report.token_views import fidelity_text
from aipcbench.results.record import QUANTIZED_DTYPES
from aipcbench.results.store import ResultsDocument

PRUNED_SUFFIX = "-pruned"


def _cv(record) -> float:
    step = record.step_time
    return step.stdev_s / step.median_s if step.median_s else 0.0


def _noise(a, b) -> float:
    """How far apart two medians may be by chance: twice the cells' combined coefficient of
    variation. A ratio inside it is reported as no measurable difference."""
    return 2 * (_cv(a) ** 2 + _cv(b) ** 2) ** 0.5


def compression_rows(documents: list[ResultsDocument]) -> list[dict[str, Any]]:
    rows = []
    for document in documents:
        ok = {
            (r.workload, r.size, r.dtype, r.device): r
            for r in document.records
            if r.measured and r.step_time is not None and r.step_time.median_s > 0
        }
        for (workload, size, dtype, device), record in ok.items():
            details = record.workload_facts.details if record.workload_facts else {}
            if not isinstance(details, dict):
                continue
            fraction = details.get("pruned_fraction")
            pruned = (
                isinstance(fraction, (int, float)) and not isinstance(fraction, bool) and 0 <= fraction <= 1
            )
            if not pruned and dtype not in QUANTIZED_DTYPES:
                continue
            base = ok.get((workload, size.removesuffix(PRUNED_SUFFIX), "fp32", device))
            speedup = base.step_time.median_s / record.step_time.median_s if base else None
            noise = _noise(base, record) if base else None
            rows.append(
                {
                    "host": document.host,
                    "device": document.device_name(device),
                    "cell": f"{workload}:{size} {dtype}",
                    "change": " + ".join(
                        ([f"{fraction:.0%} of weights zeroed"] if pruned else [])
                        + ([f"{dtype} weights"] if dtype in QUANTIZED_DTYPES else [])
                    ),
                    "base": f"{workload}:{size.removesuffix(PRUNED_SUFFIX)} fp32" if base else "",
                    "speedup": speedup,
                    "within_noise": noise is not None and speedup is not None and abs(speedup - 1) <= noise,
                    "noise": noise,
                    "fidelity": fidelity_text(details.get("fidelity")),
                    "method": str(details.get("quantization") or details.get("pruning") or ""),
                }
            )
    return rows
