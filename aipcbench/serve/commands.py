"""``aipcbench serve``: check every input, then one job per engine x quantization, each swept
over load levels and written to a results file level by level; the curve and the best level
at the latency target printed at the end.

Exit codes as for ``run``: 0 every job ok, 1 some job failed (its record says why), 2 bad input
(nothing started), 130 interrupted (finished levels kept).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

from aipcbench.catalog import load_catalog
from aipcbench.catalog.model_folder import agreed_estimate
from aipcbench.config import ServeConfig
from aipcbench.errors import DataError, Interrupted, UserInputError
from aipcbench.files import read_text
from aipcbench.results.record import device_kind
from aipcbench.results.serving import LatencyTarget, ServingRecord
from aipcbench.results.store import ResultsWriter
from aipcbench.serve import engines
from aipcbench.serve.http import Endpoint
from aipcbench.serve.job import Job, JobContext, ModelSource, cpu_meter_factory, run_job
from aipcbench.serve.memory_check import check_weights_fit
from aipcbench.serve.model_files import GGUF_QUANTS, Shape, check_shape
from aipcbench.serve.stream_request import APIS
from aipcbench.serve.sweep import SweepPlan

MAX_CONFIG_BYTES = 4 * 2**20


def say(message: str) -> None:
    from aipcbench.report.formatters import safe_text

    print(f"aipcbench: {safe_text(message)}", file=sys.stderr, flush=True)


def resolve_model(config: ServeConfig, catalog) -> ModelSource:
    """The model named by ``--model``, checked before anything starts."""
    if config.endpoint:
        return ModelSource("remote", config.model, config.model)
    model = next((m for m in catalog.model_configs if m.key == config.model), None)
    if model is not None:
        shape = Shape.of(model)
        return ModelSource("catalog", model.key, model.name, shape, None, shape.parameters, shape.vocab)
    path = Path(config.model)
    if path.suffix == ".gguf":
        return _gguf_source(path)
    if path.is_dir():
        return _folder_source(path)
    known = ", ".join(m.key for m in catalog.model_configs)
    raise UserInputError(f"--model: '{config.model}' is no catalog key ({known}), GGUF file or model folder")


def _gguf_source(path: Path) -> ModelSource:
    from aipcbench.serve.gguf_facts import read_gguf_facts

    facts = read_gguf_facts(path)
    return ModelSource("gguf", str(path), facts.name or path.name, None, path, facts.parameters, facts.vocab)


def _folder_source(path: Path) -> ModelSource:
    try:
        config = json.loads(read_text(path / "config.json", MAX_CONFIG_BYTES))
    except (OSError, ValueError) as exc:
        raise DataError(f"--model: {path / 'config.json'}: {exc}") from None
    if not isinstance(config, dict):
        raise DataError(f"--model: {path / 'config.json'} is not a JSON object")
    vocab = config.get("vocab_size")
    parameters = agreed_estimate(path, config)  # safetensors only, and a config that tells the truth
    return ModelSource(
        "folder",
        str(path),
        path.name,
        None,
        path,
        parameters,
        vocab if isinstance(vocab, int) and 1 < vocab < 10**7 else None,
    )


def plan_jobs(config: ServeConfig, source: ModelSource) -> list[Job]:
    if config.endpoint:
        endpoint = Endpoint.parse(config.endpoint)
        headers = ()
        if config.api_key_env:
            key = os.environ.get(config.api_key_env)
            if not key:
                raise UserInputError(
                    f"--api-key-env: the environment variable {config.api_key_env} is not set"
                )
            headers = (("Authorization", f"Bearer {key}"),)
        return [Job("endpoint", "", source, endpoint, config.api, headers)]
    if source.shape is not None:
        check_shape(source.shape)  # a shape random weights cannot be written for: before anything starts
    jobs = []
    for engine in config.engines:
        reason = engines.missing(engine)
        if reason:
            raise UserInputError(f"--engine {engine}: {reason}")
        if engine == "llama.cpp":
            if source.kind == "folder":
                raise UserInputError(
                    "--engine llama.cpp serves GGUF files or catalog shapes, not a model folder"
                )
            quants = ("",) if source.kind == "gguf" else config.quants
            jobs += [Job(engine, quant, source) for quant in quants]
        else:
            if source.kind == "gguf":
                raise UserInputError(
                    f"--engine {engine} serves model folders or catalog shapes, not a GGUF file"
                )
            if engine == "vllm" and device_kind(config.device) != "cuda":
                raise UserInputError("--engine vllm: needs --device cuda:N (vLLM serves on NVIDIA GPUs)")
            check_weights_fit(engine, config.device, config.dtype, source.parameter_count, source.name)
            jobs.append(Job(engine, config.dtype, source))
    return jobs


def _check(config: ServeConfig) -> None:
    bad = [q for q in config.quants if q not in GGUF_QUANTS]
    if bad:
        raise UserInputError(f"--quant: '{bad[0]}' is not one of {', '.join(GGUF_QUANTS)}")
    if config.api not in APIS:
        raise UserInputError(f"--api: '{config.api}' is not one of {', '.join(APIS)}")
    if config.endpoint and config.engines:
        raise UserInputError("--endpoint uses a running server: give it without --engine")
    if not config.endpoint and not config.engines:
        raise UserInputError("give --engine (llama.cpp, transformers, vllm) or --endpoint URL")
    if config.concurrencies and config.rates_per_s:
        raise UserInputError("--concurrency and --rate are two kinds of load: give one")


def device_sensors(device: dict | None, catalog, cpu_watts=None, gpu_watts=None, nvml=None):
    """(energy meter factory, device memory reader) for the serving device: on a CPU, the
    server group's CPU time x rated power (labelled an estimate); on an NVIDIA GPU, NVML's energy
    counter (or sampled power) over the whole device and its memory in use; else nothing."""
    from aipcbench.devices.energy import select_meter
    from aipcbench.devices.nvml import open_device
    from aipcbench.devices.rated import rated_power

    nothing = (lambda pgid: None), (lambda: None)
    if device is None:
        return nothing
    watts, basis = rated_power(device, catalog, cpu_watts, gpu_watts)
    if device["kind"] == "cpu":
        return cpu_meter_factory(watts, basis, device["details"].get("logical_cores")), nothing[1]
    if device["kind"] != "cuda":
        return nothing
    nvml, handle, _ = open_device(device["index"], device["details"].get("uuid"), nvml)
    if handle is None:
        return nothing

    def meter(pgid):
        return select_meter("cuda", rated_w=watts, rated_basis=basis, nvml=nvml, nvml_handle=handle)[0]

    def memory() -> int | None:
        try:
            return int(nvml.nvmlDeviceGetMemoryInfo(handle).used)
        except Exception:  # NVML's errors are many classes: each means "not read"
            return None

    return meter, memory


def job_context(config: ServeConfig, device, catalog, writer: ResultsWriter) -> JobContext:
    """What every job of this command shares: the engines' options, the sweep, the target, the
    device's sensors, and where records and logs go."""
    from aipcbench.report.serving_views import level_line

    meter, memory = device_sensors(
        device.to_dict() if device else None, catalog, config.cpu_watts, config.gpu_watts
    )
    options = engines.ServeOptions(
        device=config.device,
        slots=max((*config.concurrencies, config.max_concurrency)),
        context_tokens=config.prompt_tokens + config.output_tokens + 16,
        threads=config.threads,
        dtype=config.dtype,
    )
    ttft, tpot = config.target_ttft_ms, config.target_tpot_ms
    return JobContext(
        options=options,
        plan=SweepPlan(
            config.concurrencies,
            config.rates_per_s,
            config.max_concurrency,
            config.requests,
            config.warmup,
            config.seed,
        ),
        target=LatencyTarget(
            ttft / 1000 if ttft is not None else None, tpot / 1000 if tpot is not None else None
        ),
        prompt_tokens=config.prompt_tokens,
        output_tokens=config.output_tokens,
        request_timeout_s=config.request_timeout_s,
        model_cache=config.model_cache,
        log_dir=config.results_dir / "serve-logs" / writer.run_id,
        device_name=device.name if device else "",
        meter_factory=meter,
        device_memory=memory,
        say=say,
        on_record=writer.put_serving,
        on_level=lambda record, level: say(f"{record.cell}: {level_line(level)}"),
    )


def serve_command(config: ServeConfig, argv: list[str]) -> int:
    from aipcbench.devices.detect import detect_devices
    from aipcbench.environment import capture_environment
    from aipcbench.report.serving_views import curve_table

    _check(config)
    catalog = load_catalog(config.catalog_files)
    jobs = plan_jobs(config, resolve_model(config, catalog))
    inventory = detect_devices()
    device = inventory.get(config.device) if not config.endpoint else None
    writer = ResultsWriter(config.results_dir, capture_environment(inventory, argv), config.to_dict())
    say(f"{len(jobs)} serving job(s), results in {writer.path}")
    context = job_context(config, device, catalog, writer)
    records: list[ServingRecord] = []
    try:
        for job in jobs:
            records.append(run_job(job, context))
        writer.finish("completed")
    except (Interrupted, KeyboardInterrupt) as exc:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        ended_by = getattr(exc, "ended_by", "SIGINT")
        writer.finish(ended_by)
        raise Interrupted(f"{ended_by}: finished levels kept in {writer.path}", ended_by) from None
    print(curve_table(records))
    say(f"results: {writer.path}")
    return 1 if any(r.status != "ok" for r in records) else 0
