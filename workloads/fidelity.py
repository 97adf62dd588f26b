"""What quantization costs in fidelity, against the same weights unquantized.

Language models: next-token top-1 agreement and the mean KL divergence KL(reference || quantized)
over every position of a few fixed prompts, and perplexity on a short public-domain text
(``workloads/data/perplexity.txt``, the opening of the US Declaration of Independence) when real
weights and a tokenizer are present. Classifiers: top-1 agreement on a fixed batch. The
reference is computed before the weights are quantized, on the same model, so no second copy
of the model is ever held.
"""

from __future__ import annotations

from pathlib import Path

import torch

from workloads.inputs import seeded_generator

FIDELITY_PROMPTS, FIDELITY_TOKENS = 4, 32
PERPLEXITY_TEXT = Path(__file__).parent / "data" / "perplexity.txt"


def fidelity_prompts(vocab: int, seed: int, device: torch.device, tokenizer=None) -> tuple[torch.Tensor, str]:
    """Fixed prompts (FIDELITY_PROMPTS, FIDELITY_TOKENS), the same for every dtype of a model:
    consecutive pieces of the bundled text when a tokenizer is present, else fixed random ids."""
    count = FIDELITY_PROMPTS * FIDELITY_TOKENS
    if tokenizer is not None:
        ids = perplexity_tokens(tokenizer, count)
        if len(ids) == count:
            text = torch.tensor(ids).reshape(FIDELITY_PROMPTS, FIDELITY_TOKENS)
            return text.to(device), f"{FIDELITY_PROMPTS} pieces of {FIDELITY_TOKENS} tokens of perplexity.txt"
    ids = torch.randint(0, vocab, (FIDELITY_PROMPTS, FIDELITY_TOKENS), generator=seeded_generator(seed + 1))
    return ids.to(device), f"{FIDELITY_PROMPTS} fixed prompts of {FIDELITY_TOKENS} random token ids"


@torch.inference_mode()
def log_probs(model, ids: torch.Tensor) -> torch.Tensor:
    """Next-token log-probabilities at every position, (N * T, vocab) in fp32."""
    logits = model(ids).logits.float()
    return torch.log_softmax(logits.reshape(-1, logits.shape[-1]), dim=-1)


def compare(reference: torch.Tensor, candidate: torch.Tensor) -> dict[str, float]:
    """Top-1 agreement and mean KL(reference || candidate) in nats, over rows of log-probs."""
    agreement = (reference.argmax(-1) == candidate.argmax(-1)).float().mean().item()
    kl = (reference.exp() * (reference - candidate)).sum(-1).mean().item()
    return {"top1_agreement": agreement, "kl_divergence_nats": max(kl, 0.0), "positions": reference.shape[0]}


@torch.inference_mode()
def perplexity(model, token_ids: list[int], device: torch.device) -> float:
    """exp(mean negative log-likelihood) of the text's tokens, each predicted from those before."""
    ids = torch.tensor([token_ids], device=device)
    logits = model(ids).logits.float()[0, :-1]
    return torch.exp(torch.nn.functional.cross_entropy(logits, ids[0, 1:])).item()


def perplexity_tokens(tokenizer, limit: int) -> list[int]:
    return tokenizer(PERPLEXITY_TEXT.read_text())["input_ids"][:limit]
