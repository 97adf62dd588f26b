"""Prompts of a set length, different for every request.

Every request gets its own random prompt (a seeded generator per request index), as vLLM's
``bench serve --dataset-name random`` does: a repeated prompt would be served from the engine's
prefix cache and its prefill would not be measured. What a prompt is depends on what the engine
takes:

- token ids (llama.cpp, vLLM): exactly N ids from the vocabulary's plain word tokens;
- words (the random-weight folder's word tokenizer): N words ``wK``, exactly N tokens;
- text (a user's model or a hosted API): a slice of a bundled public-domain text of about N
  tokens (0.75 words per token, the usual English ratio); the server's own count is recorded.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from importlib import resources

from aipcbench.serve.engines import TEXT, TOKEN_IDS, WORDS
from aipcbench.serve.stream_request import Prompt

FIRST_WORD_TOKEN = 259  # after the 3 control and 256 byte tokens of a random-weight GGUF
WORDS_PER_TOKEN = 0.75


def _bundled_words() -> list[str]:
    try:
        text = (resources.files("workloads") / "data" / "perplexity.txt").read_text(encoding="utf-8")
    except (OSError, ModuleNotFoundError):
        text = ""
    words = text.split()
    return words or "the quick brown fox jumps over the lazy dog".split()


def prompt_maker(kind: str, tokens: int, vocab: int | None, seed: int = 0) -> Callable[[int], Prompt]:
    """A function from a request's index to its prompt."""
    if kind == TOKEN_IDS:
        high = (vocab or 32000) - 1
        low = FIRST_WORD_TOKEN if high > FIRST_WORD_TOKEN else 0

        def ids(index: int) -> Prompt:
            rng = random.Random(f"{seed}:{index}")
            return Prompt(tuple(rng.randint(low, high) for _ in range(tokens)), None, tokens)

        return ids
    if kind == WORDS:
        high = (vocab or 2) - 1

        def words(index: int) -> Prompt:
            rng = random.Random(f"{seed}:{index}")
            return Prompt(None, " ".join(f"w{rng.randint(1, high)}" for _ in range(tokens)), tokens)

        return words
    if kind == TEXT:
        source = _bundled_words()
        count = max(1, round(tokens * WORDS_PER_TOKEN))

        def text(index: int) -> Prompt:
            rng = random.Random(f"{seed}:{index}")
            start = rng.randrange(len(source))
            picked = [source[(start + i) % len(source)] for i in range(count)]
            return Prompt(None, f"[{index}] " + " ".join(picked), tokens)

        return text
    raise ValueError(f"unknown prompt kind {kind!r}")
