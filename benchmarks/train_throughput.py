"""Training throughput: SoulChat's batching against plain SFTTrainer defaults.

Same model (a fresh copy of the base each time, same seed), same LoRA settings, same
tokenised samples with the same assistant-only labels, same number of optimiser steps and the
same batch size; only the batching differs:

* ``padded``: SFTTrainer's defaults (random order, each batch padded to its longest row),
  the baseline;
* ``length_grouped``: what ``batching: auto`` picks without flash attention (CPU): batches of
  similar length, so little padding;
* ``padding_free`` (optional, ``--configs padded,length_grouped,padding_free``): a batch
  concatenated into one row with position ids, what ``auto`` picks with flash attention on a
  GPU. Do not run it on a CPU at these sizes: SDPA materialises the attention of the whole
  8,000-token row (tens of GB for the backward pass).

The ceiling of any padding removal is the baseline's padding share: on ESConv at max_length
1024 and batch 8, random batches are 76% real tokens, so about 1.32x.

Throughput counts real tokens (no padding) per second over the steps after the first (the
first pays one-off start-up costs). Losses: the mean training loss of the last steps, and the
loss of each trained model on the same fixed held-out samples, so "matching loss" compares
like with like.

    .venv/bin/python benchmarks/train_throughput.py                 # ESConv from ../shared
    .venv/bin/python benchmarks/train_throughput.py --data prepared.jsonl --steps 8

Progress goes to stderr; the last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_common import benchmark_lock, logger  # noqa: E402

log = logger("train_throughput")
SHARED_ESCONV = ROOT.parent / "shared" / "data" / "esconv_train.jsonl.gz"


def load_dialogues(path: Path, count: int, seed: int) -> list[Any]:
    from training.data.loaders import load
    from training.data.schema import read_jsonl

    if path.suffix == ".jsonl" and "esconv" not in path.name:
        dialogues = list(read_jsonl(path))
    else:
        dialogues = list(load(path))
    random.Random(seed).shuffle(dialogues)
    return dialogues[:count]


def tokenise(dialogues: list[Any], tokenizer: Any, max_length: int) -> Any:
    from datasets import Dataset

    from training.sft.samples import dialogue_samples

    columns: dict[str, list[Any]] = {"input_ids": [], "labels": []}
    for dialogue in dialogues:
        for sample in dialogue_samples(dialogue, tokenizer, "chat_template", max_length=max_length):
            columns["input_ids"].append(sample.input_ids)
            columns["labels"].append(sample.labels)
    return Dataset.from_dict(columns)


class StepClock:
    """Wall time and real tokens of every optimiser step."""

    def __init__(self) -> None:
        self.marks: list[float] = []

    def callback(self) -> Any:
        from transformers import TrainerCallback

        clock = self

        class Mark(TrainerCallback):  # type: ignore[misc]
            def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
                clock.marks.append(time.perf_counter())

            def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
                clock.marks.append(time.perf_counter())

        return Mark()


def run_one(
    batching: str,
    model_path: str,
    train: Any,
    held_out: Any,
    args: argparse.Namespace,
    scratch: Path,
) -> dict[str, Any]:
    import torch
    import transformers

    from training.sft.config import build_config
    from training.sft.model import load_base, lora_config
    from training.sft.trainer import SoulChatSFTTrainer, sft_arguments

    config = build_config(
        {
            "train_file": "-",
            "model": model_path,
            "output_dir": str(scratch / f"run-{batching}"),
            "batching": batching,
            "max_length": args.max_length,
            "per_device_train_batch_size": args.batch,
            "gradient_accumulation_steps": 1,
            "max_steps": args.steps,
            "logging_steps": 1,
            "save_steps": 10_000,
            "warmup_ratio": 0.0,
            "seed": args.seed,
        }
    )
    transformers.set_seed(args.seed)
    model, tokenizer, _ = load_base(config, scratch / "models")  # as `soulchat train sft` does
    clock = StepClock()
    trainer = SoulChatSFTTrainer(
        model=model,
        args=sft_arguments(config),
        train_dataset=train,
        eval_dataset=held_out,
        processing_class=tokenizer,
        peft_config=lora_config(config),
        callbacks=[clock.callback()],
    )
    tokens_per_step: list[int] = []
    original = trainer.training_step

    def counting_step(model: Any, inputs: dict[str, Any], *rest: Any, **kw: Any) -> Any:
        # Real tokens: labels/ids that are not padding (padding-free rows have none).
        if "attention_mask" in inputs:
            tokens_per_step.append(int(inputs["attention_mask"].sum()))
        else:
            tokens_per_step.append(int((inputs["position_ids"] != 0).sum()) + 1)
        return original(model, inputs, *rest, **kw)

    trainer.training_step = counting_step  # type: ignore[method-assign]
    trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    with torch.no_grad():
        held_out_loss = float(trainer.evaluate()["eval_loss"])
    step_seconds = [b - a for a, b in zip(clock.marks, clock.marks[1:], strict=False)]
    timed = slice(1, None)  # the first step pays start-up costs
    seconds = sum(step_seconds[timed])
    tokens = sum(tokens_per_step[timed])
    return {
        "batching": batching,
        "tokens_per_second": round(tokens / seconds, 1),
        "timed_steps": len(step_seconds[timed]),
        "tokens": tokens,
        "seconds": round(seconds, 1),
        "train_loss_last": round(statistics.mean(losses[-3:]), 4),
        "held_out_loss": round(held_out_loss, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED_ESCONV)
    parser.add_argument("--model", default="", help="base model (default: bundled SmolLM2)")
    parser.add_argument("--dialogues", type=int, default=256)
    # SFTTrainer's own defaults: batch 8 per device, max_length 1024.
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--configs", default="padded,length_grouped", help="comma list; first is the baseline"
    )
    parser.add_argument("--lock-wait", type=float, default=600)
    args = parser.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"{args.data} not found: pass --data with a prepared JSONL file")
    os.environ.setdefault("TQDM_DISABLE", "1")
    from transformers import AutoTokenizer

    from inference.backends.checkpoints import loadable
    from inference.backends.local import resolve_model_source

    source = resolve_model_source(args.model)
    results = []
    # A GGUF base is converted once (inside the lock: it takes both cores for a while) for
    # every configuration; it and the runs' outputs are removed at the end.
    with (
        tempfile.TemporaryDirectory(prefix="bench-train-") as scratch_dir,
        benchmark_lock(args.lock_wait, log),
    ):
        scratch = Path(scratch_dir)
        with loadable(source, scratch / "models") as plain:
            tokenizer = AutoTokenizer.from_pretrained(plain.location)
        dialogues = load_dialogues(args.data, args.dialogues + 16, args.seed)
        train = tokenise(dialogues[16:], tokenizer, args.max_length)
        held_out = tokenise(dialogues[:16], tokenizer, args.max_length)
        log(f"{len(train)} training samples, {len(held_out)} held-out samples")
        for batching in args.configs.split(","):
            log(f"training {args.steps} steps with batching={batching}")
            results.append(run_one(batching, args.model, train, held_out, args, scratch))
            log(json.dumps(results[-1]))
    baseline = results[0]
    summary = {
        "benchmark": "train_throughput",
        "model": source.describe(),
        "steps": args.steps,
        "batch": args.batch,
        "max_length": args.max_length,
        "baseline": baseline,
        "runs": results[1:],
        "ratios": {
            r["batching"]: round(r["tokens_per_second"] / baseline["tokens_per_second"], 2)
            for r in results[1:]
        },
    }
    for run in results[1:]:
        print(
            f"{run['batching']}: {run['tokens_per_second']} tok/s vs padded "
            f"{baseline['tokens_per_second']} tok/s = {summary['ratios'][run['batching']]}x; "
            f"held-out loss {run['held_out_loss']} vs {baseline['held_out_loss']}"
        )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
