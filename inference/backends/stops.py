"""Cutting a streamed reply at stop strings (the transcript style's next speaker label)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def cut_at_stops(pieces: Iterable[str], stops: list[str]) -> Iterator[str]:
    """Pass pieces through until a stop string appears, holding back an end that could begin
    one. Servers stop at stop strings too, but stream the stop string itself (and take only a
    few), and a local ``generate`` does not know them: the backends cut here."""
    stops = [stop for stop in stops if stop]
    held = ""
    for piece in pieces:
        held += piece
        cut = min((held.find(stop) for stop in stops if stop in held), default=-1)
        if cut >= 0:
            if cut:
                yield held[:cut]
            return
        ready = len(held) - _partial_stop(held, stops)
        if ready:
            yield held[:ready]
            held = held[ready:]
    if held:
        yield held


def _partial_stop(text: str, stops: list[str]) -> int:
    """Length of the longest end of ``text`` that is the beginning of a stop string."""
    return max(
        (size for stop in stops for size in range(1, len(stop)) if text.endswith(stop[:size])),
        default=0,
    )
