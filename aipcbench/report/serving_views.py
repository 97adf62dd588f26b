"""Serving records as text: one line per finished level (progress) and the concurrency curve
of every engine, led by the best level that keeps the latency target."""

from __future__ import annotations

from aipcbench.report.formatters import safe_text, size_bytes, text_table
from aipcbench.results.serving import LatencyStats, ServingLevel, ServingRecord


def ms(stats: LatencyStats | None, field: str = "p95_s") -> str:
    if stats is None:
        return "-"
    value = getattr(stats, field) * 1000
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def tokens_per_s(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def level_line(level: ServingLevel) -> str:
    failed = f", {level.requests_failed} failed" if level.requests_failed else ""
    return (
        f"{level.label}: {tokens_per_s(level.output_tokens_per_s)} output tokens/s, "
        f"p95 TTFT {ms(level.ttft)} ms, p50 TPOT {ms(level.tpot, 'p50_s')} ms "
        f"({level.requests_ok} ok{failed})"
    )


def describe(record: ServingRecord) -> str:
    weights = "random weights" if record.weights_source == "random-init" else record.weights_source
    what = f"{record.model_name} {record.quantization}".strip()
    where = record.device_name or record.device
    return (
        f"{record.engine} {record.engine_version} serving {what} ({weights}) on {where}: "
        f"prompt {record.prompt_tokens}, output {record.output_tokens} tokens; {record.target.describe()}"
    )


def best_sentence(record: ServingRecord) -> str:
    best = record.best_at_target()
    if record.status != "ok" and not record.levels:
        return f"{record.status}: {record.reason}"
    if best is None:
        return f"no level kept {record.target.describe()}"
    return (
        f"best at the target: {best.label}, {tokens_per_s(best.output_tokens_per_s)} output tokens/s "
        f"({tokens_per_s(best.output_tokens_per_s_per_user)} per user), p95 TTFT {ms(best.ttft)} ms"
    )


def curve_rows(record: ServingRecord) -> list[list[str]]:
    rows = [
        [
            "load",
            "ok",
            "failed",
            "out tok/s",
            "per user",
            "TTFT p50",
            "TTFT p95",
            "TPOT p50",
            "ITL p95",
            "E2E p95",
            "server RSS",
            "client CPU",
            "target",
        ]
    ]
    for level in record.levels:
        rows.append(
            [
                level.label,
                str(level.requests_ok),
                str(level.requests_failed),
                tokens_per_s(level.output_tokens_per_s),
                tokens_per_s(level.output_tokens_per_s_per_user),
                ms(level.ttft, "p50_s"),
                ms(level.ttft),
                ms(level.tpot, "p50_s"),
                ms(level.itl),
                ms(level.e2e),
                size_bytes(level.server_peak_rss_bytes) if level.server_peak_rss_bytes else "-",
                f"{level.generator_cpu_fraction:.0%}" if level.generator_cpu_fraction is not None else "-",
                {True: "kept", False: "broken", None: "-"}[level.meets_target],
            ]
        )
    return rows


def curve_table(records: list[ServingRecord]) -> str:
    """Every record's curve (times in ms), headed by what was served and its best level."""
    lines: list[str] = []
    for record in records:
        lines.append(safe_text(describe(record)))
        lines.append("  " + safe_text(best_sentence(record)))
        if record.levels:
            lines += text_table(curve_rows(record), indent="  ")
        if record.levels:
            lines.append("  client CPU: the load generator's own CPU time over each level's wall time")
        if record.stopped_by:
            lines.append(f"  sweep ended: {safe_text(record.stopped_by)}")
        if record.status != "ok" and record.levels:
            lines.append(f"  {record.status}: {safe_text(record.reason)}")
        lines.append("")
    return "\n".join(lines).rstrip()


def decision_text(decision) -> str:
    """A [[serve]] item's answer: the sentence, then every option's monthly cost."""
    from aipcbench.report.formatters import usd

    item = decision.item
    lines = [safe_text(decision.sentence)]
    lines.append(
        safe_text(
            f"  load: {item.requests_per_day:,.0f} requests a day, {item.prompt_tokens}-token prompts, "
            f"{item.output_tokens}-token answers, peak {item.peak_to_average:g}x the average "
            f"({item.peak_tokens_per_s:,.1f} output tokens/s at the peak); {item.target.describe()}"
        )
    )
    for assumed in item.assumed:
        lines.append(f"  assumption: {safe_text(assumed)} (not given in the plan)")
    rows = [["option", "$/month", "range", "machines", "evidence", "note"]]
    for option in decision.options:
        spread = (
            f"{usd(option.monthly_usd_low)}-{usd(option.monthly_usd_high)}"
            if option.monthly_usd_high - option.monthly_usd_low > 0.005
            else "-"
        )
        count = f"{option.machines:.3g}" if option.kind != "api" else "-"
        rows.append([option.name, usd(option.monthly_usd), spread, count, option.method, option.note])
    lines += text_table(rows, indent="  ")
    for note in decision.notes:
        lines.append(f"  not priced: {safe_text(note)}")
    return "\n".join(lines)
