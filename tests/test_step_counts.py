"""Operations and bytes of a step, against analytic values (the estimator starts from them)."""

import pytest
import torch

from aipcbench.run.step_counts import count_step


def _mlp_adam_step(widths=(784, 4096, 4096, 10), batch=256):
    layers = []
    for index, (fan_in, fan_out) in enumerate(zip(widths, widths[1:])):
        if index:
            layers.append(torch.nn.ReLU())
        layers.append(torch.nn.Linear(fan_in, fan_out))
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.Adam(model.parameters(), fused=True)  # as the workloads make it
    x, y = torch.randn(batch, widths[0]), torch.randint(0, widths[-1], (batch,))

    def step():
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()

    step()  # Adam's state exists from the second step on, as in a timed step
    return step, sum(p.numel() * 4 for p in model.parameters())


def test_a_training_step_moves_weights_gradients_and_adam_state_at_least():
    step, weight_bytes = _mlp_adam_step()
    counted = count_step(step)
    activations = 256 * (784 + 4096 + 4096 + 10) * 4  # one fp32 copy of every layer's input/output
    # weights read, gradients written, Adam's two moments read and written: 4 x the weights
    assert 4 * weight_bytes <= counted.bytes_distinct <= 4 * weight_bytes + 8 * activations
    assert counted.bytes_eager >= counted.bytes_distinct  # eager kernels re-read what they share
    # forward and weight gradients for every layer; input gradients for all but the first
    matmuls = 784 * 4096 + 4096 * 4096 + 4096 * 10
    assert counted.flop_count == 2 * 256 * (2 * matmuls + 4096 * 4096 + 4096 * 10)
    assert counted.kernel_ops > 0 and counted.view_ops > 0


def _gpt2_decode_counts(layers: int, new_tokens: int):
    from transformers import GPT2Config, GPT2LMHeadModel

    from workloads.textgen import greedy_decode

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(n_layer=layers)).eval()
    ids = torch.randint(0, 50257, (1, 8))
    weight_bytes = sum(p.numel() * 4 for p in model.parameters())
    return count_step(lambda: greedy_decode(model, ids, new_tokens)), weight_bytes, model.config.n_embd


@pytest.mark.slow
def test_gpt2_decode_reads_every_weight_once_per_token_and_its_ops_grow_per_layer():
    per_token_ops, per_token_bytes = {}, {}
    for layers in (1, 2, 3):
        short, weights, width = _gpt2_decode_counts(layers, 2)
        long, _, _ = _gpt2_decode_counts(layers, 6)
        per_token_ops[layers] = (long.kernel_ops - short.kernel_ops) / 4
        per_token_bytes[layers] = (long.bytes_eager - short.bytes_eager) / 4
        # each decoded token reads every weight (the tied output layer reads the token embedding
        # a second time); activations and the small KV cache add a few percent
        head = 50257 * width * 4
        assert weights + head - 50257 * width * 4 <= per_token_bytes[layers] <= 1.3 * (weights + head)
    # ops per decode step = a + b x layers exactly: a 12-layer GPT-2 dispatches a + 12 b per token
    per_layer = per_token_ops[2] - per_token_ops[1]
    assert per_token_ops[3] - per_token_ops[2] == per_layer and per_layer > 10
    twelve, _, _ = _gpt2_decode_counts(12, 2)
    twelve_long, _, _ = _gpt2_decode_counts(12, 3)
    assert twelve_long.kernel_ops - twelve.kernel_ops == per_token_ops[1] + 11 * per_layer
