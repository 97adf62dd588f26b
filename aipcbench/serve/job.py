"""One serving job: an engine (or a running endpoint) serving one model at one quantization,
swept over load levels, its record rewritten in the results file after every level.

The server is stopped in a ``finally`` on every path; a server that never becomes ready or dies
mid-sweep makes a ``failed`` record with the reason and the levels that finished; a signal makes
an ``interrupted`` one, and ``Interrupted`` is raised once the server is gone.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from aipcbench.errors import Interrupted, exception_line
from aipcbench.results.serving import LatencyTarget, ServingLevel, ServingRecord
from aipcbench.serve import engines
from aipcbench.serve.hf_folder import random_hf_folder
from aipcbench.serve.http import Endpoint
from aipcbench.serve.load import Profile, run_level
from aipcbench.serve.metrics import Extras, summarise
from aipcbench.serve.model_files import Shape, random_gguf
from aipcbench.serve.procfs import PeakSampler, group_cpu_s
from aipcbench.serve.prompts import prompt_maker
from aipcbench.serve.server import ServerError, ServerProcess, free_port, log_tail
from aipcbench.serve.stream_request import RequestSpec
from aipcbench.serve.sweep import SweepPlan, run_sweep

METHOD = (
    "streamed OpenAI-compatible requests from aipcbench's asyncio client on this machine; "
    "per level: warm-up requests excluded, TTFT/TPOT/ITL/E2E from arrival times of streamed "
    "events, tokens from the server's usage counts where sent"
)


@dataclass(frozen=True)
class ModelSource:
    """What is served: a catalog shape (random weights), a user's file or folder, or a remote
    endpoint's model."""

    kind: str  # catalog | gguf | folder | remote
    key: str
    name: str
    shape: Shape | None = None
    path: Path | None = None
    parameter_count: int | None = None
    vocab: int | None = None

    @property
    def weights_source(self) -> str:
        return {"catalog": "random-init", "remote": "remote"}.get(self.kind, "file")


@dataclass(frozen=True)
class Job:
    engine: str  # one of engines.ENGINES, or "endpoint"
    quantization: str
    model: ModelSource
    endpoint: Endpoint | None = None
    api: str = "completions"
    headers: tuple[tuple[str, str], ...] = ()  # never written anywhere

    @property
    def cell(self) -> str:
        return f"serve:{self.engine}:{self.model.key}:{self.quantization or 'as-is'}"


@dataclass(frozen=True)
class JobContext:
    """What every job of one ``aipcbench serve`` shares."""

    options: engines.ServeOptions
    plan: SweepPlan
    target: LatencyTarget
    prompt_tokens: int
    output_tokens: int
    request_timeout_s: float
    model_cache: Path
    log_dir: Path
    device_name: str
    meter_factory: Callable[[int | None], object | None]  # pgid -> an energy meter, or None
    say: Callable[[str], None]
    on_record: Callable[[ServingRecord], None]
    on_level: Callable[[ServingRecord, ServingLevel], None] = lambda record, level: None
    device_memory: Callable[[], int | None] = lambda: None  # a GPU's memory in use (NVML)


def _model_path(job: Job, context: JobContext) -> Path:
    source = job.model
    if source.kind != "catalog":
        return source.path
    if job.engine == "llama.cpp":
        return random_gguf(
            source.shape,
            job.quantization,
            context.model_cache,
            engines.llama_quantize_bin(),
            context.say,
        )
    return random_hf_folder(source.shape, context.model_cache, weights=job.engine != "vllm")


def _base_record(job: Job, context: JobContext, version: str) -> ServingRecord:
    remote = job.engine == "endpoint"
    return ServingRecord(
        cell=job.cell,
        engine=job.engine,
        engine_version=version,
        device="remote" if remote else context.options.device,
        device_name=job.endpoint.host if remote and job.endpoint else context.device_name,
        model=job.model.key,
        model_name=job.model.name,
        weights_source=job.model.weights_source,
        quantization=job.quantization,
        api=job.api,
        prompt_tokens=context.prompt_tokens,
        output_tokens=context.output_tokens,
        target=context.target,
        status="ok",
        parameter_count=job.model.parameter_count,
        architecture="llama" if job.model.shape else "",
        notes=_shape_notes(job.model.shape),
        context_tokens=None if remote else context.options.context_tokens,
        method=METHOD,
    )


def run_job(job: Job, context: JobContext) -> ServingRecord:
    """Serve, sweep, record. Raises Interrupted (after recording and stopping) on a signal."""
    version = engines.version(job.engine) if job.engine != "endpoint" else "unknown"
    record = _base_record(job, context, version)
    server: ServerProcess | None = None
    try:
        if job.engine == "endpoint":
            endpoint, launch = job.endpoint, None
        else:
            path = _model_path(job, context)
            launch = engines.launch(
                job.engine, path, free_port(), context.options, job.model.kind == "catalog"
            )
            log = context.log_dir / f"{_safe(job.cell)}.log"
            server = ServerProcess(
                launch.command,
                int(launch.command[launch.command.index("--port") + 1]),
                log,
                launch.health_path,
                launch.env,
            )
            record = replace(
                record,
                server_command=launch.command,
                server_log=str(log),
                slots=launch.slots,
                weights_bytes=_size(path),
            )
            context.say(f"{job.cell}: starting {Path(launch.command[0]).name} (log: {log})")
            server.start()
            record = replace(record, server_start_s=server.wait_ready(launch.ready_deadline_s))
            endpoint = server.endpoint
        record = _sweep(job, context, record, endpoint, launch, server)
    except ServerError as exc:
        record = replace(record, status="failed", reason=str(exc))
    except (OSError, ValueError, RuntimeError) as exc:  # a full disk, an engine's own failure
        record = replace(record, status="failed", reason=exception_line(exc))
    finally:
        if server is not None:
            server.stop()
    context.on_record(record)
    if record.status == "interrupted":
        raise Interrupted(f"{record.stopped_by}: finished levels kept", record.stopped_by)
    return record


def _request_spec(job: Job, context: JobContext, endpoint: Endpoint, launch) -> RequestSpec:
    return RequestSpec(
        endpoint,
        job.api,
        launch.model_name if launch else job.model.key,
        context.output_tokens,
        extra_body=launch.extra_body if launch else {},
        headers=dict(job.headers),
        timeout_s=context.request_timeout_s,
        idle_timeout_s=min(120.0, context.request_timeout_s),
    )


def _level_runner(job: Job, context: JobContext, spec: RequestSpec, prompts, server, signals: list[str]):
    """One level with the server's probes around it; None (and the signal kept) when cut short.
    Request numbers run on across levels, so no level repeats an earlier level's prompts (an
    engine's prefix cache would answer those without a prefill)."""
    sent = [0]

    def run_one(profile: Profile, measured: int, warmup: int) -> ServingLevel | None:
        first = sent[0]
        sent[0] += warmup + measured
        pgid = server.pgid if server else None
        sampler = PeakSampler(pgid).start() if pgid else None
        meter = context.meter_factory(pgid)
        if meter is not None:
            meter.start()
        context.say(f"{job.cell}: {profile.label}, {warmup} warm-up + {measured} requests")
        run = run_level(profile, spec, lambda index: prompts(first + index), measured, warmup)
        reading = meter.stop() if meter is not None else None
        peak = sampler.stop() if sampler else None
        if run.ended_by:
            signals.append(run.ended_by)
            return None
        energy = (reading.joules, reading.method, reading.note) if reading else (None, None, "")
        return summarise(run, context.target, Extras(peak, context.device_memory(), *energy))

    return run_one


def _sweep(job, context, record, endpoint, launch, server) -> ServingRecord:
    kind = launch.prompt_kind if launch else engines.TEXT
    vocab = job.model.shape.vocab if job.model.shape else job.model.vocab
    prompts = prompt_maker(kind, context.prompt_tokens, vocab, context.plan.seed)
    levels: list[ServingLevel] = []
    signals: list[str] = []

    def on_level(level: ServingLevel) -> None:
        levels.append(level)
        current = replace(record, levels=tuple(levels))
        context.on_level(current, level)
        context.on_record(current)

    run_one = _level_runner(
        job, context, _request_spec(job, context, endpoint, launch), prompts, server, signals
    )
    alive = server.alive if server else (lambda: True)
    stopped_by = run_sweep(context.plan, context.target, run_one, on_level, alive)
    record = replace(record, levels=tuple(levels), stopped_by=stopped_by)
    if signals:
        return replace(record, status="interrupted", stopped_by=signals[0])
    if server is not None and not server.alive():
        return replace(
            record, status="failed", reason=f"the server exited mid-sweep: {log_tail(server.log_path)}"
        )
    if not any(level.requests_ok for level in levels):
        reasons = "; ".join(sorted({r for level in levels for r in level.failure_reasons}))
        return replace(record, status="failed", reason="no request succeeded: " + reasons[:300])
    return record


def _shape_notes(shape: Shape | None) -> tuple[str, ...]:
    if shape is None or shape.architecture == "llama":
        return ()
    return (
        f"served as a llama-architecture model of the {shape.key} shape ({shape.architecture}'s own "
        f"layers differ only in small q/k/v biases, left out: {shape.parameters:,} parameters written)",
    )


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text)[:120]


def _size(path: Path) -> int | None:
    try:
        if path.is_file():
            return path.stat().st_size
        return sum(p.stat().st_size for p in path.glob("*.safetensors"))
    except OSError:
        return None


def cpu_meter_factory(rated_w: float | None, basis: str, cores: int | None):
    """Energy of a CPU server over a level: its process group's CPU time x rated power (an
    estimate, labelled so), where no better sensor exists."""
    from aipcbench.devices.energy import TdpEstimateMeter

    def make(pgid: int | None):
        if pgid is None or not rated_w or not os.path.isdir("/proc"):
            return None
        return TdpEstimateMeter(
            rated_w, basis + "; server process group's CPU time", cores, cpu_time=lambda: group_cpu_s(pgid)
        )

    return make
