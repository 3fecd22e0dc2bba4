"""How a reply is sampled: the one definition of the decoding parameters.

``GenerationParams`` is the settings group ``generation.*`` (``soulchat.config``), the
``params`` of every generation job (JSON between adapters and workers, which may run different
versions: keep the field names and meanings), and evaluation's decoding
(``training.evaluation.generate``). Backends and the Messages API client read it.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class GenerationParams(BaseModel):
    max_new_tokens: int = Field(256, gt=0, description="Longest reply, in tokens.")
    temperature: float = Field(
        0.95, ge=0, description="Sampling temperature (the original method: 0.95). 0 = greedy."
    )
    top_p: float = Field(
        0.75, gt=0, le=1, description="Nucleus sampling (the original method: 0.75)."
    )
    repetition_penalty: float = Field(1.1, gt=0, description="1.0 disables it.")

    @property
    def greedy(self) -> bool:
        """Temperature 0 means greedy decoding, on every backend and server."""
        return self.temperature <= 0
