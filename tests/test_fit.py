"""Does it fit: the memory formula against hand-computed cases (a Llama-3.1-8B shape)."""

import pytest

from aipcbench.catalog import load_catalog
from aipcbench.catalog.model_memory import GIB, memory_need
from aipcbench.cost.fit import fit_table

LLAMA_8B = next(m for m in load_catalog().model_configs if m.key == "llama3.1-8b")


def test_the_8b_shape_adds_up_to_its_parameter_count():
    m = LLAMA_8B
    per_layer = (
        2 * m.hidden * m.hidden + 2 * m.hidden * m.kv_heads * m.head_dim + 3 * m.hidden * m.intermediate
    )
    per_layer += 2 * m.hidden  # two RMS norms
    assert m.layers * per_layer + 2 * m.vocab * m.hidden + m.hidden == m.parameters  # untied embeddings


@pytest.mark.parametrize(
    "dtype, batch, weights, kv",
    [
        # weights: 8,030,261,248 x 2 bytes; KV: 2 x 32 layers x batch x 4,096 x 8 heads x 128 x 2 bytes
        ("bf16", 1, 16_060_522_496, 536_870_912),
        ("bf16", 8, 16_060_522_496, 4_294_967_296),
        # int4: 0.5 byte a weight + a 2-byte scale and a 2-byte zero point per group of 128
        # (what the kernel stores, see the packing test below); on a GPU the KV cache stays 16-bit
        ("int4", 1, 8_030_261_248 * (0.5 + 4 / 128), 536_870_912),
        ("int4", 8, 8_030_261_248 * (0.5 + 4 / 128), 4_294_967_296),
    ],
)
def test_memory_need_by_hand(dtype, batch, weights, kv):
    need = memory_need(LLAMA_8B, dtype, batch, 4096)
    assert need.weights_bytes == pytest.approx(weights) and need.kv_cache_bytes == kv
    # one layer's prefill activations: batch x 4,096 x (4 x 4,096 + 14,336) x 2 bytes
    assert need.activations_bytes == batch * 4096 * (4 * 4096 + 14336) * 2
    assert need.total_bytes == pytest.approx(weights + kv + need.activations_bytes + 0.5 * GIB)


def test_which_cards_hold_it():
    catalog = load_catalog()
    rows = {r.device.split(" ")[0]: r.fits for r in fit_table(catalog, LLAMA_8B, "int4", 1, 4096)}
    assert rows["RTX4090"] and rows["T4"]  # 5.2 GiB
    rows = {r.device.split(" ")[0]: r.fits for r in fit_table(catalog, LLAMA_8B, "bf16", 1, 4096)}
    assert rows["RTX4090"] and not rows["T4"]  # 16.2 GiB: a 24 GB card yes, a 16 GB card no
    rows = {r.device.split(" ")[0]: r.fits for r in fit_table(catalog, LLAMA_8B, "bf16", 8, 16384)}
    assert not rows["RTX4090"] and rows["H100-SXM"]  # 16 GiB of KV cache on top: no longer on a 24 GB card


def test_fit_command_names_bad_input(cli):
    code, out, err = cli("fit", "llama3.1-8b", "--dtype", "bf16,int4", "--batch", "1")
    assert code == 0 and "int4, batch 1, context 4,096: 5.2 GiB" in out
    # a table: one row a device, one column a configuration (16.2 GiB in bf16 misses a 16 GiB T4)
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith("  ")}
    assert rows["device"] == ["or", "preset", "memory", "bf16", "b1", "int4", "b1"]
    assert rows["T4"] == ["16", "GiB", "no", "fits", "(33%)"]
    assert rows["H100-SXM"][:4] == ["80", "GiB", "fits", "(20%)"]
    code, _, err = cli("fit", "llama-99b")
    assert code == 2 and "unknown model 'llama-99b'" in err
    code, _, err = cli("fit", "llama3.1-8b", "--dtype", "int3")
    assert code == 2 and "--dtype: 'int3' is not one of fp32, bf16, fp16, int8, int4" in err
    code, _, err = cli("fit", "llama3.1-8b", "--batch", "0")
    assert code == 2 and "--batch" in err


def test_the_int4_fit_formula_counts_what_the_int4_kernel_stores():
    """Both from the same packing: a 256 x 512 layer packed by the kernel weighs what the fit
    formula says per weight (4 bits + a bf16 scale and zero point per group of 128)."""
    import torch

    from aipcbench.catalog.model_memory import WEIGHT_BYTES
    from workloads.quantize import Int4Linear

    layer = Int4Linear(torch.nn.Linear(512, 256, bias=False))
    stored = sum(b.numel() * b.element_size() for b in layer.buffers())
    assert stored == 256 * 512 * WEIGHT_BYTES["int4"] == 256 * 512 // 2 + 256 * (512 // 128) * 2 * 2


def test_a_quantized_model_keeps_16_bit_activations_on_an_accelerator_and_fp32_on_a_cpu():
    from aipcbench.catalog.model_memory import activation_bytes

    assert (
        activation_bytes("int4", accelerator=True) == 2.0
        and activation_bytes("int4", accelerator=False) == 4.0
    )
    assert activation_bytes("bf16", accelerator=False) == 2.0
    cpu = memory_need(LLAMA_8B, "int8", 1, 4096, accelerator=False)
    gpu = memory_need(LLAMA_8B, "int8", 1, 4096)
    assert cpu.kv_cache_bytes == 2 * gpu.kv_cache_bytes


def test_fit_for_a_training_step(cli):
    code, out, err = cli(
        "fit", "llama3.1-8b", "--train", "lora", "--dtype", "bf16", "--batch", "1", "--context", "2048"
    )
    assert code == 0, err
    # the same figure as the formula's hand calculation (tests/test_finetune.py): 46.5 GiB
    assert "lora training, bf16, batch 1 x 2,048 tokens: 46.5 GiB" in out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith("  ")}
    assert rows["H100-SXM"][2:] == ["fits", "(58%)"] and rows["A100-40GB"][2:] == ["no"]
    code, out, err = cli(
        "fit", "llama3.1-8b", "--train", "lora", "--dtype", "bf16", "--batch", "1", "--checkpointing"
    )
    assert code == 0 and "checkpointed" in out
    for args, message in (
        (("--train", "full", "--dtype", "int4"), "--dtype: 'int4' is not one of fp32, bf16, fp16"),
        (("--checkpointing",), "--checkpointing goes with --train"),
    ):
        code, _, err = cli("fit", "llama3.1-8b", *args)
        assert code == 2 and message in err


def test_a_device_sold_with_several_memory_sizes_is_listed_per_size():
    """The sizes come from the catalog's own rows: a V100's name states 16/32GB; the M4 Max row
    is its largest (128 GB) and the Mac Studio preset built on it has 36 GB. Llama-3.1-8B in bf16
    (16.2 GiB) misses the 16 GB V100 and fits the 32 GB one: at the largest size alone the table
    would have said it fits a V100, full stop."""
    catalog = load_catalog()
    rows = {r.label: r for r in fit_table(catalog, LLAMA_8B, "bf16", 1, 4096)}
    assert not rows["V100 16 GB"].fits and rows["V100 32 GB"].fits
    assert (
        rows["M4MAX-GPU 36 GB"].memory_bytes == 36 * GIB
        and rows["M4MAX-GPU 128 GB"].memory_bytes == 128 * GIB
    )
    assert "V100" not in rows and "RTX4090" in rows  # one size: the key alone, as before
    # a LoRA step of 4,096 tokens, checkpointed: 15 GiB of frozen bf16 weights and about 10 more
    lora = fit_table(catalog, LLAMA_8B, "bf16", 1, 4096, train="lora", checkpointing=True)
    fits = {r.label: r.fits for r in lora}
    assert not fits["V100 16 GB"] and fits["M4MAX-GPU 36 GB"] and fits["M4MAX-GPU 128 GB"]
