"""Will the server's weights fit this machine's memory? Checked before a transformers or vLLM
server starts on the CPU, where a model too large for the host is not refused by the engine but
grows until the kernel's out-of-memory killer ends it, or something else.

    need = parameters x bytes a weight at the compute dtype (``--dtype``; a float16 folder is
           widened to it on load) + 0.5 GiB of runtime (``model_memory.OVERHEAD_BYTES``)

against the host's available memory now. llama.cpp maps its GGUF file (page cache, given back
under pressure) and a GPU engine is bounded by its device's memory, so neither is checked here.
"""

from __future__ import annotations

from aipcbench.catalog.model_memory import GIB, OVERHEAD_BYTES, WEIGHT_BYTES
from aipcbench.errors import UserInputError
from aipcbench.host_memory import available_host_bytes

CHECKED_ENGINES = ("transformers", "vllm")


def check_weights_fit(
    engine: str, device: str, dtype: str, parameters: int | None, name: str, available: float | None = None
) -> None:
    """One line naming both figures when the weights cannot fit; nothing otherwise."""
    if engine not in CHECKED_ENGINES or device != "cpu" or not parameters or dtype not in WEIGHT_BYTES:
        return
    have = available_host_bytes() if available is None else available
    need = parameters * WEIGHT_BYTES[dtype] + OVERHEAD_BYTES
    if have is not None and need > have:
        raise UserInputError(
            f"--model: {name} at {dtype} needs about {need / GIB:.1f} GiB for {engine} serve on the CPU "
            f"({parameters:,} parameters); {have / GIB:.1f} GiB is available: a smaller model, a "
            "16-bit --dtype or llama.cpp with a quantized GGUF"
        )
