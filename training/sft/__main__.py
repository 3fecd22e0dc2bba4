"""``python -m training.sft --config FILE``: the entry point for ``accelerate launch`` and
``torchrun``, which start one process per GPU."""

from __future__ import annotations

import typer

from training.cli import train_sft

if __name__ == "__main__":
    typer.run(train_sft)
