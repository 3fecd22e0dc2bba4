"""Splits by dialogue, deterministic; stats on a hand-counted fixture."""

from __future__ import annotations

import json
import random

import pytest

from training.data.schema import Dialogue, Message
from training.data.split import by_id, split_dialogues
from training.data.stats import compute_stats, merge_stats, tokenizer_counter


def dialogue(
    dialogue_id: str, *texts: str, source: str = "smilechat", language: str = "zh"
) -> Dialogue:
    roles = ("user", "assistant")
    messages = [Message(roles[i % 2], text) for i, text in enumerate(texts)]
    return Dialogue(dialogue_id, source, language, messages)


def corpus(size: int) -> list[Dialogue]:
    return [
        dialogue(f"d{n}", f"第{n}个来访者：我最近遇到了一些困难，想找人聊一聊。", "我在听。")
        for n in range(size)
    ]


def membership(dialogues: list[Dialogue], **kwargs: object) -> dict[str, set[str]]:
    splits = split_dialogues(dialogues, **kwargs)  # type: ignore[arg-type]
    return {name: {d.id for d in part} for name, part in splits.items()}


# --- splits ----------------------------------------------------------------------------------


def test_every_dialogue_in_exactly_one_split_with_the_given_sizes() -> None:
    data = corpus(200)
    splits = split_dialogues(data, valid=0.05, test=0.1, seed=7)
    assert splits.counts() == {"train": 170, "valid": 10, "test": 20}
    seen = [d.id for _, part in splits.items() for d in part]
    assert sorted(seen) == sorted(d.id for d in data)
    assert len(seen) == len(set(seen))
    # whole dialogues, never turns
    assert all(len(d.messages) == 2 for _, part in splits.items() for d in part)


def test_deterministic_for_the_same_input_and_seed_whatever_the_order() -> None:
    data = corpus(200)
    first = membership(data, seed=42)
    assert membership(data, seed=42) == first
    shuffled = data[:]
    random.Random(3).shuffle(shuffled)
    assert membership(shuffled, seed=42) == first
    assert membership(data, seed=43)["test"] != first["test"]


def test_each_split_keeps_input_order() -> None:
    data = corpus(100)
    splits = split_dialogues(data, seed=1)
    order = {d.id: n for n, d in enumerate(data)}
    for _, part in splits.items():
        positions = [order[d.id] for d in part]
        assert positions == sorted(positions)


def test_dialogues_with_the_same_opening_share_a_split() -> None:
    opening = "高三后的迷茫，高考前的恐惧，能给我一些建议么？"
    twins = [dialogue(f"twin{n}", opening, f"回答{n}") for n in range(8)]
    data = corpus(100) + twins
    for seed in range(5):
        found = membership(data, seed=seed, valid=0.1, test=0.1)
        holding = [name for name, ids in found.items() if any(i.startswith("twin") for i in ids)]
        assert len(holding) == 1
    # grouping by id instead lets them spread (over several seeds, some twins land apart)
    twin_ids = {d.id for d in twins}
    spread = [
        sum(1 for ids in membership(data, seed=s, group_of=by_id).values() if ids & twin_ids)
        for s in range(10)
    ]
    assert max(spread) > 1


def test_short_openings_do_not_group() -> None:
    data = [dialogue(f"h{n}", "你好", f"你好，第{n}位朋友") for n in range(100)]
    assert split_dialogues(data, valid=0.05, test=0.05, seed=0).counts() == {
        "train": 90,
        "valid": 5,
        "test": 5,
    }


@pytest.mark.parametrize(("valid", "test"), [(-0.1, 0.1), (0.5, 0.5), (1.0, 0.0)])
def test_invalid_fractions(valid: float, test: float) -> None:
    with pytest.raises(ValueError, match="fractions"):
        split_dialogues(corpus(3), valid=valid, test=test)


# --- stats -----------------------------------------------------------------------------------

# Hand-counted: characters are len(); estimated tokens are one per CJK character plus
# (other characters + 2) // 3.
FIXTURE = [
    dialogue("a", "你好", "你好呀", "我很难过"),  # 3 turns, 9 chars, 9 tokens
    dialogue("b", "hello", "hi there", source="esconv", language="en"),  # 2, 13 chars, 2+3
    dialogue("c", "我", "嗯嗯", "好的", "再见", source="cpsycound"),  # 4 turns, 7 chars, 7 tokens
]


def test_stats_numbers() -> None:
    stats = compute_stats(FIXTURE)
    assert stats.to_json()["total"] == {
        "dialogues": 3,
        "turns": 9,
        "user_turns": 5,
        "assistant_turns": 4,
        "characters": 29,
        "tokens": 21,
        "turns_mean": 3.0,
        "turns_median": 3,
        "turns_max": 4,
    }
    zh = stats.by_language["zh"].to_json()
    assert (zh["dialogues"], zh["turns"], zh["characters"], zh["tokens"]) == (2, 7, 16, 16)
    assert (zh["turns_mean"], zh["turns_median"], zh["turns_max"]) == (3.5, 3.5, 4)
    assert stats.by_source["esconv"].to_json()["tokens"] == 5
    assert sorted(stats.by_source) == ["cpsycound", "esconv", "smilechat"]
    assert stats.tokens_counted_by == "estimate"
    even = compute_stats([FIXTURE[0], FIXTURE[0]]).to_json()["total"]["turns_median"]
    assert even == 3 and isinstance(even, int)  # rendered "3", not "3.0"


def test_merged_stats_equal_stats_of_the_union() -> None:
    parts = [compute_stats(FIXTURE[:1]), compute_stats(FIXTURE[1:])]
    assert merge_stats(parts).to_json() == compute_stats(FIXTURE).to_json()


def test_stats_render_as_markdown_and_json() -> None:
    stats = compute_stats(FIXTURE)
    table = stats.to_markdown("Data")
    assert "| all | 3 | 9 | 4 | 29 | 21 | 3.0 | 3 | 4 |" in table
    assert "| language: zh | 2 | 7 | 3 | 16 | 16 | 3.5 | 3.5 | 4 |" in table
    assert "| source: esconv | 1 | 2 | 1 | 13 | 5 | 2.0 | 2 | 2 |" in table
    assert json.loads(json.dumps(stats.to_json()))["by_source"]["smilechat"]["turns"] == 3


def test_stats_with_a_tokenizer() -> None:
    class WordTokenizer:
        def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
            assert add_special_tokens is False
            return list(range(len(text.split())))

    stats = compute_stats(FIXTURE, count_tokens=tokenizer_counter(WordTokenizer()))
    assert stats.total.tokens == 10
    assert stats.tokens_counted_by == "tokenizer"


def test_stats_of_nothing() -> None:
    stats = compute_stats([])
    assert stats.to_json()["total"]["turns_mean"] == 0.0
    assert "| all | 0 |" in stats.to_markdown()
