"""``aipcbench fit``: the memory a language model needs, and where it fits, as text."""

from __future__ import annotations

from aipcbench.catalog import load_catalog
from aipcbench.catalog.model_memory import FLOAT_BYTES, GIB, WEIGHT_BYTES, memory_need
from aipcbench.catalog.train_memory import train_memory_need
from aipcbench.cost.fit import fit_table
from aipcbench.errors import UserInputError
from aipcbench.report.formatters import safe_text, text_table


def fit_command(
    key: str,
    dtypes: tuple[str, ...],
    batches: tuple[int, ...],
    context: int,
    catalog_files,
    train: str | None = None,
    checkpointing: bool = False,
) -> int:
    """Longer than 60 lines: the model, each configuration's need in parts, then the table; the
    same path for inference and (``train``) a training step."""
    catalog = load_catalog(catalog_files)
    model = next((m for m in catalog.model_configs if m.key == key), None)
    if model is None:
        valid = ", ".join(m.key for m in catalog.model_configs)
        raise UserInputError(f"fit: unknown model '{key}' (known: {valid})")
    allowed = FLOAT_BYTES if train else WEIGHT_BYTES  # training steps train float weights
    unknown = [d for d in dtypes if d not in allowed]
    if unknown:
        raise UserInputError(f"--dtype: '{unknown[0]}' is not one of {', '.join(allowed)}")
    print(safe_text(f"{model.name}: {model.parameters / 1e9:.2f} B parameters ({model.source})"))
    configurations = [(dtype, batch) for dtype in dtypes for batch in batches]
    header, grid = ["device or preset", "memory"], {}
    for dtype, batch in configurations:
        print(_need_line(model, dtype, batch, context, train, checkpointing))
        header.append(f"{dtype} b{batch}")
        for row in fit_table(catalog, model, dtype, batch, context, train, checkpointing):
            cells = grid.setdefault(row.label, [f"{row.memory_bytes / GIB:,.0f} GiB"])
            cells.append(f"fits ({row.need_bytes / row.memory_bytes:.0%})" if row.fits else "no")
    print("\nwhere it fits (the share of each device's memory it takes; keys as in catalog/data):")
    table = [tuple(header)] + [(device, *cells) for device, cells in grid.items()]
    print("\n".join(text_table([tuple(safe_text(c) for c in row) for row in table], indent="  ")))
    return 0


def _need_line(model, dtype: str, batch: int, context: int, train: str | None, checkpointing: bool) -> str:
    """One configuration's need on an accelerator, in its parts."""
    if train:
        n = train_memory_need(model, train, dtype, batch, context, checkpointing)
        parts = (
            f"weights {n.weights_bytes / GIB:.1f} + gradients {n.gradients_bytes / GIB:.1f} + AdamW "
            f"{n.optimizer_bytes / GIB:.1f} + activations {n.activations_bytes / GIB:.1f} + logits "
            f"{n.logits_bytes / GIB:.1f} + overhead {n.overhead_bytes / GIB:.1f}"
        )
        what = f"{train} training, {dtype}, batch {batch} x {context:,} tokens"
        what += ", checkpointed" if checkpointing else ""
        return f"{what}: {n.total_bytes / GIB:.1f} GiB ({parts})"
    need = memory_need(model, dtype, batch, context)
    parts = (
        f"weights {need.weights_bytes / GIB:.1f} + KV cache {need.kv_cache_bytes / GIB:.1f} + "
        f"activations {need.activations_bytes / GIB:.1f} + overhead {need.overhead_bytes / GIB:.1f}"
    )
    return f"{dtype}, batch {batch}, context {context:,}: {need.total_bytes / GIB:.1f} GiB ({parts})"


REPORT_DTYPES = ("bf16", "int8", "int4")
REPORT_CONTEXT = 4096


def fit_rows(comparisons, catalog) -> list[dict]:
    """For every catalog model a generation cell ran: per dtype at batch 1 and a 4,096-token
    context (or the model's own maximum), what it needs and which devices can hold it."""
    models = (c.details.get("model") for c in comparisons if c.mode == "generate")
    names = {name for name in models if isinstance(name, str)}  # details are free-form data
    rows = []
    for model in (m for m in catalog.model_configs if m.name in names):
        context = int(min(REPORT_CONTEXT, model.max_context))
        for dtype in REPORT_DTYPES:
            table = fit_table(catalog, model, dtype, 1, context)
            rows.append(
                {
                    "model": model.name,
                    "dtype": dtype,
                    "context": context,
                    "need_bytes": memory_need(model, dtype, 1, context).total_bytes,
                    "fits": [r.device for r in table if r.fits],
                    "does_not_fit": [r.device for r in table if not r.fits],
                }
            )
    return rows
