"""Replies for held-out contexts, from a local model (batched) or a Messages API endpoint.

Prompts are built exactly as the worker builds them (``inference.worker.prompt_for``): the
locale's system prompt, control markers removed from the text, ``build_prompt`` with the
serving budget, and the chosen style. Decoding is greedy by default, so a run is repeatable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from inference.backends.local import LocalBackend
from inference.backends.stops import cut_at_stops
from inference.job import GenerationParams
from inference.messages_api import ChatRequest
from inference.prompt import (
    Prompt,
    Style,
    Turn,
    build_prompt,
    estimate_prompt_tokens,
    neutralise_control_markers,
    system_prompt_for,
)
from training.evaluation.contexts import EvalContext
from training.evaluation.endpoint import ChatEndpoint, EndpointError, Progress


def eval_params(**changes: Any) -> GenerationParams:
    """Evaluation's decoding: greedy, at most 128 new tokens, the serving repetition penalty
    (local only: the Messages API has none), with ``changes``."""
    defaults: dict[str, Any] = {"max_new_tokens": 128, "temperature": 0.0, "top_p": 1.0}
    return GenerationParams.model_validate({**defaults, **changes})


@dataclass(frozen=True)
class GenerationConfig:
    style: Style = "chat_template"
    params: GenerationParams = field(default_factory=eval_params)
    seed: int = 0
    batch_size: int = 8
    max_context_tokens: int = 2048  # as serving: prompt plus reply must fit

    @property
    def greedy(self) -> bool:
        return self.params.greedy

    @property
    def prompt_budget(self) -> int:
        return self.max_context_tokens - self.params.max_new_tokens

    def to_json(self) -> dict[str, Any]:
        """The settings a result file records, flat (reports read them by name)."""
        return {
            "style": self.style,
            **self.params.model_dump(),
            "seed": self.seed,
            "batch_size": self.batch_size,
            "max_context_tokens": self.max_context_tokens,
        }


class ReplyGenerator(Protocol):
    def generate(
        self, contexts: Sequence[EvalContext], progress: Progress | None = None
    ) -> list[str]:
        """One reply per context, in input order."""
        ...


def build_eval_prompt(
    context: EvalContext,
    style: Style,
    *,
    markers: Sequence[str],
    count_tokens: Callable[[Prompt], int],
    budget: int,
) -> Prompt:
    turns = [Turn(t.role, neutralise_control_markers(t.text, markers)) for t in context.turns]
    return build_prompt(
        system_prompt_for(context.locale),
        turns,
        style=style,
        locale=context.locale,
        count_tokens=count_tokens,
        budget=budget,
    )


def finish_reply(text: str, stops: Sequence[str]) -> str:
    """The reply up to the first stop string (the transcript's next speaker label)."""
    return "".join(cut_at_stops([text], list(stops))).strip()


class ModelGenerator:
    """What the local engines share: a loaded backend, the config, and the worker's prompt
    measured by the backend's own tokenizer."""

    def __init__(self, backend: Any, config: GenerationConfig) -> None:
        self.backend = backend
        self.config = config

    def prompt(self, context: EvalContext) -> Prompt:
        return build_eval_prompt(
            context,
            self.config.style,
            markers=self.backend.control_markers(),
            count_tokens=self.backend.count_tokens,
            budget=self.config.prompt_budget,
        )


class LocalGenerator(ModelGenerator):
    """``model.generate`` on left-padded batches of prompts sorted by length."""

    backend: LocalBackend

    @classmethod
    def load(
        cls,
        config: GenerationConfig,
        model: str = "",
        *,
        adapter: str = "",
        device: str = "auto",
        dtype: str = "auto",
        cache_dir: Path | None = None,
    ) -> LocalGenerator:
        backend = LocalBackend.load(
            model, adapter=adapter, device=device, dtype=dtype, cache_dir=cache_dir
        )
        return cls(backend, config)

    def generate(
        self, contexts: Sequence[EvalContext], progress: Progress | None = None
    ) -> list[str]:
        import torch

        prompts = [self.prompt(context) for context in contexts]
        tokenizer = self.backend.tokenizer
        # The rendered template already holds its special tokens as text (as LocalBackend).
        ids = [
            list(tokenizer(self.backend.render_text(p), add_special_tokens=False)["input_ids"])
            for p in prompts
        ]
        # Longest first: similar lengths share a batch, and running out of memory shows at once.
        order = sorted(range(len(prompts)), key=lambda index: -len(ids[index]))
        replies = [""] * len(prompts)
        if not self.config.greedy:
            torch.manual_seed(self.config.seed)
        size = max(1, self.config.batch_size)
        for start in range(0, len(order), size):
            batch = order[start : start + size]
            texts = self._generate_batch([ids[index] for index in batch])
            for index, text in zip(batch, texts, strict=True):
                replies[index] = finish_reply(text, prompts[index].stop)
            if progress is not None:
                progress(min(start + size, len(order)), len(order))
        return replies

    def _generate_batch(self, batch: list[list[int]]) -> list[str]:
        import torch

        tokenizer = self.backend.tokenizer
        width = max(len(ids) for ids in batch)
        pad_lengths = [width - len(ids) for ids in batch]
        pad = tokenizer.pad_token_id
        input_ids = torch.tensor(
            [[pad] * n + ids for n, ids in zip(pad_lengths, batch, strict=True)],
            device=self.backend.device,
        )
        attention_mask = torch.tensor(
            [[0] * n + [1] * len(ids) for n, ids in zip(pad_lengths, batch, strict=True)],
            device=self.backend.device,
        )
        kwargs = self._generation_kwargs(torch.tensor(pad_lengths))
        with torch.inference_mode():
            output = self.backend.model.generate(
                input_ids=input_ids, attention_mask=attention_mask, **kwargs
            )
        return [tokenizer.decode(row[width:], skip_special_tokens=True) for row in output]

    def _generation_kwargs(self, pad_lengths: Any) -> dict[str, Any]:
        from transformers import LogitsProcessorList, RepetitionPenaltyLogitsProcessor

        params = self.config.params
        kwargs: dict[str, Any] = {
            "max_new_tokens": params.max_new_tokens,
            "do_sample": not params.greedy,
            "pad_token_id": self.backend.tokenizer.pad_token_id,
            "repetition_penalty": 1.0,  # applied below, where padding can be left out
        }
        if params.repetition_penalty != 1.0:
            # generate's own penalty would count the left padding as tokens seen, so a padded
            # row would be penalised on the pad token (often also the end-of-sequence token)
            # and a batched reply would differ from the same prompt's reply alone.
            penalty = RepetitionPenaltyLogitsProcessor(
                float(params.repetition_penalty), prompt_ignore_length=pad_lengths
            )
            kwargs["logits_processor"] = LogitsProcessorList([penalty])
        if params.greedy:  # silence the model's own sampling defaults
            kwargs.update(temperature=None, top_p=None, top_k=None)
        else:
            kwargs.update(temperature=params.temperature, top_p=params.top_p)
        return kwargs


class LlamaCppGenerator(ModelGenerator):
    """One request at a time to the llama.cpp engine, as ``soulchat chat`` serves: the GGUF
    base (a quantised one scores what users meet) and a GGUF-converted adapter. Each prompt is
    evaluated whole (no cached prefix), so a greedy run repeats exactly."""

    @classmethod
    def load(
        cls,
        config: GenerationConfig,
        model: str = "",
        *,
        adapter: str = "",
        cache_dir: Path | None = None,
    ) -> LlamaCppGenerator:
        from inference.backends.llamacpp import LlamaCppBackend
        from inference.backends.local import resolve_model_source
        from inference.backends.lora_gguf import gguf_adapter

        source = resolve_model_source(model, cache_dir)
        converted = gguf_adapter(adapter, source, cache_dir) if adapter else None
        backend = LlamaCppBackend.load(
            source,
            adapter=converted,
            context_tokens=config.max_context_tokens,
            cache_dir=cache_dir,
        )
        backend.cache_prompt = False
        return cls(backend, config)

    def generate(
        self, contexts: Sequence[EvalContext], progress: Progress | None = None
    ) -> list[str]:
        replies = []
        for done, context in enumerate(contexts, start=1):
            prompt = self.prompt(context)
            text = "".join(self.backend.stream(prompt, self.config.params))
            replies.append(finish_reply(text, prompt.stop))
            if progress is not None:
                progress(done, len(contexts))
        return replies


class EndpointGenerator:
    """Requests to a Messages API endpoint, which applies the served model's chat template."""

    def __init__(self, endpoint: ChatEndpoint, config: GenerationConfig) -> None:
        if config.style != "chat_template":
            raise EndpointError(
                "the transcript style needs the local backend: a Messages API endpoint "
                "applies its own chat template (use --style chat_template)"
            )
        self.endpoint = endpoint
        self.config = config

    def request(self, context: EvalContext) -> ChatRequest:
        prompt = build_eval_prompt(
            context,
            self.config.style,
            markers=(),
            count_tokens=estimate_prompt_tokens,
            budget=self.config.prompt_budget,
        )
        return ChatRequest.sampled(
            prompt.messages, self.config.params, stop=prompt.stop, seed=self.config.seed
        )

    def generate(
        self, contexts: Sequence[EvalContext], progress: Progress | None = None
    ) -> list[str]:
        requests = [self.request(context) for context in contexts]
        replies: list[str] = []
        for answer in self.endpoint.complete_all(requests, progress):
            if isinstance(answer, EndpointError):
                raise answer
            replies.append(finish_reply(answer, []))
        return replies
