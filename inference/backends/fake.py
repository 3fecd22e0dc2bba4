"""A fixed-latency stand-in model for load tests and benchmarks.

It understands nothing: it streams a fixed reply in ``chunks`` pieces over ``latency_s``
seconds, so that queue and adapter overhead can be measured apart from the model's own time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from inference.job import GenerationParams
from inference.prompt import Prompt, estimate_prompt_tokens

FAKE_REPLY = "I hear you. That sounds really hard. Would you like to tell me more about it?"


class FakeBackend:
    name = "fake"

    def __init__(self, latency_s: float = 0.02, chunks: int = 8, reply: str = FAKE_REPLY) -> None:
        self.latency_s = latency_s
        self.chunks = max(1, chunks)
        self.reply = reply

    def count_tokens(self, prompt: Prompt) -> int:
        return estimate_prompt_tokens(prompt)

    def control_markers(self) -> list[str]:
        return []

    def stream(self, prompt: Prompt, params: GenerationParams) -> Iterator[str]:
        size = -(-len(self.reply) // self.chunks)
        pieces = [self.reply[i : i + size] for i in range(0, len(self.reply), size)]
        pause = self.latency_s / len(pieces)
        for piece in pieces:
            time.sleep(pause)
            yield piece

    def close(self) -> None:
        pass
