"""Fine-tuning a causal LM (workloads/finetune.py): LoRA and full steps that learn, the trainable
parameters and the step's memory against the formula (aipcbench.catalog.train_memory)."""

from __future__ import annotations

import math

import pytest

from aipcbench.catalog import load_catalog
from aipcbench.catalog.model_memory import GIB
from aipcbench.catalog.train_memory import lora_parameters, train_memory_need
from aipcbench.config import WorkloadOptions
from tests import datafiles
from workloads import finetune
from workloads.base import PrepareContext, Unsupported

SHAPES = {m.key: m for m in load_catalog().model_configs}


def _ctx(folder, size, dtype="fp32"):
    return PrepareContext("cpu", dtype, size, quick=True, options=WorkloadOptions(model=str(folder)))


@pytest.mark.parametrize("size", ["lora", "full"])
def test_a_fine_tune_step_learns_its_batches(tmp_path, size):
    pytest.importorskip("peft")
    folder = datafiles.tiny_llama(tmp_path)
    prepared = finetune.prepare(_ctx(folder, size))
    before = prepared.evaluate_loss()
    for _ in range(12):
        prepared.step()
    assert prepared.evaluate_loss() < before  # the quality gate's rule: the loss falls
    assert prepared.item_unit == "tokens" and prepared.items_per_step == 4 * 64
    details = prepared.details
    if size == "lora":
        # rank 16 on q, k, v, o, gate, up, down of 2 layers (hidden 128, 4 heads x 32, 2 KV heads, MLP 256)
        per_layer = 16 * ((128 + 128) + 2 * (128 + 64) + (128 + 128) + 2 * (128 + 256) + (256 + 128))
        assert details["trainable_parameters"] == 2 * per_layer == 65_536
    else:
        assert details["trainable_parameters"] == prepared.parameters
    assert prepared.weights_source == "pretrained" and details["memory_need_bytes"] > 0


def test_qlora_is_skipped_with_its_reason_off_cuda(tmp_path):
    with pytest.raises(Unsupported, match="QLoRA needs bitsandbytes"):
        finetune.prepare(_ctx(tmp_path, "qlora"))


def test_lora_parameters_follow_the_architecture_by_hand():
    llama = SHAPES["llama3.1-8b"]  # 32 layers, hidden 4096, 32 x 128 heads, 8 KV heads, MLP 14336
    per_layer = 16 * (2 * 4096 * 2 + 2 * (4096 + 1024) + 3 * (4096 + 14336))
    assert lora_parameters(llama) == 32 * per_layer == 41_943_040
    gpt2 = SHAPES["gpt2-124m"]  # 12 layers, hidden 768, MLP 3072: c_attn, c_proj, c_fc, mlp c_proj
    assert lora_parameters(gpt2) == 12 * 16 * ((768 + 2304) + (768 + 768) + (768 + 3072) + (3072 + 768))


def test_the_training_memory_formula_by_hand():
    """Llama-3.1-8B, bf16 LoRA, batch 1 x 2,048 tokens on a GPU:
    weights 8.03e9 x 2 + 41.9M adapters x 4; gradients and AdamW on the adapters (12 bytes each);
    activations 32 x 2048 x 4096 x (34 + 5 x 32 x 2048 / 4096) bytes; logits 2048 x 128,256 x 8."""
    llama = SHAPES["llama3.1-8b"]
    need = train_memory_need(llama, "lora", "bf16", 1, 2048)
    assert need.weights_bytes == pytest.approx(llama.parameters * 2 + 41_943_040 * 4)
    assert need.gradients_bytes + need.optimizer_bytes == pytest.approx(41_943_040 * 12)
    assert need.activations_bytes == pytest.approx(32 * 2048 * 4096 * (34 + 5 * 32 * 2048 / 4096))
    assert need.logits_bytes == 2048 * 128_256 * 8
    assert round(need.total_bytes / GIB, 1) == 46.5  # 16.2 + 0.5 + 30.6 + 2.1 + 0.5 GB: activations lead
    full = train_memory_need(llama, "full", "bf16", 1, 2048)  # 16 bytes a parameter before activations
    assert full.weights_bytes + full.gradients_bytes + full.optimizer_bytes == pytest.approx(
        llama.parameters * 16
    )
    checkpointed = train_memory_need(llama, "lora", "bf16", 1, 2048, checkpointing=True)
    assert checkpointed.activations_bytes < need.activations_bytes / 10


def test_lora_without_peft_is_skipped_with_how_to_install_it(tmp_path, monkeypatch):
    import sys

    folder = datafiles.tiny_llama(tmp_path)
    monkeypatch.setitem(sys.modules, "peft", None)  # import peft raises ImportError
    with pytest.raises(Unsupported, match=r"LoRA needs peft: pip install 'aipcbench\[finetune\]'"):
        finetune.prepare(_ctx(folder, "lora"))


def test_a_full_fine_tune_is_fully_sharded_over_two_gloo_ranks(cli, tmp_path):
    """FSDP2 on two CPU processes under torchrun: each rank holds half the training state, the
    loss falls, and the cell is recorded like a data-parallel one (per-rank figures)."""
    from aipcbench import results

    folder = datafiles.tiny_llama(tmp_path)
    fast = ("--warmup", "1", "--min-steps", "3", "--min-time", "0", "--max-time", "1")
    code, _, err = cli(
        "run", "--devices", "cpu", "--workloads", "finetune:full", "--model", str(folder),
        "--ddp-sweep", "2", "--no-report", "--results-dir", str(tmp_path / "r"), *fast,
    )  # fmt: skip
    assert code == 0, err
    (record,) = results.load(next((tmp_path / "r").glob("run-*.json"))).records
    assert record.status == "ok" and record.world_size == 2 and record.data_parallel.backend == "gloo"
    assert record.workload_facts.details["sharding"].startswith("FSDP2 fully_shard over 2 ranks")
    assert record.quality.loss_fell is True and len(record.memory.per_rank) == 2


def test_rank_and_checkpointing_options_reach_the_adapters_and_the_fit_check(tmp_path):
    """--lora-rank 4 gives a quarter of rank 16's adapters; --checkpointing still learns, is
    recorded, and the fit check's need is the formula's with checkpointing (smaller)."""
    pytest.importorskip("peft")
    folder = datafiles.tiny_llama(tmp_path)
    options = WorkloadOptions(model=str(folder), lora_rank=4, checkpointing=True)
    prepared = finetune.prepare(PrepareContext("cpu", "fp32", "lora", quick=True, options=options))
    before = prepared.evaluate_loss()
    for _ in range(12):
        prepared.step()
    assert prepared.evaluate_loss() < before
    details = prepared.details
    assert details["trainable_parameters"] == 65_536 // 4 and details["lora_rank"] == 4
    assert details["checkpointing"] is True
    shape = finetune.resolve(str(folder), None)[0]
    from dataclasses import replace

    shape = replace(shape, parameters=float(prepared.parameters - details["trainable_parameters"]))
    kept = train_memory_need(shape, "lora", "fp32", 4, 64, False, False, 4).total_bytes
    recomputed = train_memory_need(shape, "lora", "fp32", 4, 64, True, False, 4).total_bytes
    assert details["memory_need_bytes"] == pytest.approx(recomputed) and recomputed < kept


def test_the_run_command_takes_the_fine_tune_options(cli):
    code, _, err = cli("run", "--workloads", "finetune:lora", "--lora-rank", "0", "--no-report")
    assert code == 2 and "--lora-rank" in err and err.count("\n") == 1


@pytest.mark.parametrize("architecture", ["llama", "gpt2"])
def test_attention_only_adapters_train_what_the_formula_counts(tmp_path, architecture):
    """--lora-targets attention: adapters on q, k, v and the output projection only (GPT-2: its
    fused c_attn and the attention's c_proj, not the MLP's c_proj of the same name); the trainable
    count is the formula's, and the steps train (the tiny Llama's loss falls in 12 steps; the
    tiny GPT-2's attention-only adapters need more than 12, as the quality gate allows)."""
    pytest.importorskip("peft")
    from dataclasses import replace

    folder = datafiles.tiny_llama(tmp_path) if architecture == "llama" else datafiles.tiny_gpt2(tmp_path)
    options = WorkloadOptions(model=str(folder), lora_targets="attention")
    prepared = finetune.prepare(PrepareContext("cpu", "fp32", "lora", quick=True, options=options))
    before = prepared.evaluate_loss()
    for _ in range(12):
        prepared.step()
    after = prepared.evaluate_loss()
    assert (after < before) if architecture == "llama" else math.isfinite(after)
    shape = finetune.resolve(str(folder), None)[0]
    shape = replace(shape, parameters=float(prepared.parameters))
    expected = lora_parameters(shape, 16, "attention")
    assert prepared.details["trainable_parameters"] == expected < lora_parameters(shape, 16, "all")
    assert prepared.details["lora_targets"] == "attention"
