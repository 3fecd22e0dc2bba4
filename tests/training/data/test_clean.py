"""Cleaning rules: each switchable, each counted."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from training.data.clean import (
    CleaningConfig,
    NearDuplicateIndex,
    clean,
    jaccard,
    scrub_text,
    shingles,
)
from training.data.schema import Dialogue, Message

ZH_USER = "我最近工作压力很大，晚上总是睡不着，白天也提不起精神，不知道该怎么办才好。"
ZH_REPLY = "听起来你最近真的很辛苦。能和我说说，工作上具体是哪些事情让你感到压力吗？"
EN_USER = "I have been feeling really stressed at work and I cannot sleep at night."
EN_REPLY = "That sounds exhausting. What has been weighing on you the most lately?"


def dialogue(
    dialogue_id: str, *texts: str, language: str = "zh", source: str = "smilechat"
) -> Dialogue:
    roles = ("user", "assistant")
    messages = [Message(roles[i % 2], text) for i, text in enumerate(texts)]
    return Dialogue(dialogue_id, source, language, messages)


def only(**switches: object) -> CleaningConfig:
    """A config with every rule off except those named."""
    base: dict[str, object] = {
        "scrub_pii": False,
        "min_turns": 1,
        "max_message_chars": None,
        "check_language": False,
        "dedupe_exact": False,
        "dedupe_near": False,
    }
    return CleaningConfig(**{**base, **switches})  # type: ignore[arg-type]


def ids(dialogues: list[Dialogue]) -> list[str]:
    return [d.id for d in dialogues]


# --- duplicates --------------------------------------------------------------------------------


def test_exact_duplicates_after_case_and_space_folding() -> None:
    data = [
        dialogue("a", EN_USER, EN_REPLY, language="en"),
        dialogue("b", "  " + EN_USER.upper(), EN_REPLY.replace(" ", "   "), language="en"),
        dialogue("c", EN_USER, "Something else entirely.", language="en"),
    ]
    kept, report = clean(data, only(dedupe_exact=True))
    assert ids(kept) == ["a", "c"]
    assert report.dropped["exact_duplicate"] == 1
    assert report.examples["exact_duplicate"] == ["b"]
    kept, _ = clean(data, only())
    assert ids(kept) == ["a", "b", "c"]


def _long_text(seed: int) -> str:
    rng = random.Random(seed)
    pool = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动"
    return "".join(rng.choice(pool) for _ in range(600))


def test_near_duplicates_by_shingle_jaccard() -> None:
    base = _long_text(1)
    edited = base[:300] + "完全不同" + base[304:]  # four characters changed out of 600
    other = _long_text(2)
    data = [dialogue("a", base, ZH_REPLY), dialogue("b", edited, ZH_REPLY), dialogue("c", other)]
    kept, report = clean(data, only(dedupe_near=True))
    assert ids(kept) == ["a", "c"]
    assert report.dropped["near_duplicate"] == 1
    assert report.dropped["exact_duplicate"] == 0
    # the threshold is configurable: demanding near-identity keeps the edited copy
    similarity = jaccard(shingles(base + ZH_REPLY, 5), shingles(edited + ZH_REPLY, 5))
    assert 0.9 < similarity < 0.99
    kept, _ = clean(data, only(dedupe_near=True, near_dup_threshold=0.99))
    assert ids(kept) == ["a", "b", "c"]


def test_near_duplicate_index_finds_every_copy_without_comparing_all_pairs() -> None:
    index = NearDuplicateIndex(0.85)
    originals = [_long_text(seed) for seed in range(2000)]
    assert not any(index.is_duplicate(text) for text in originals)
    copies = [text[:100] + "改" + text[101:] for text in originals[:200]]
    assert all(index.is_duplicate(text) for text in copies)
    # Comparing every pair would examine about two million candidates; the bands keep it to
    # roughly one per copy, however many texts are kept.
    assert index.candidates_examined < 2 * (len(originals) + len(copies))


# --- length -------------------------------------------------------------------------------------


def test_turn_and_character_bounds() -> None:
    data = [
        dialogue("one-turn", ZH_USER),
        dialogue("ok", ZH_USER, ZH_REPLY),
        dialogue("long", ZH_USER, ZH_REPLY, ZH_USER, ZH_REPLY, ZH_USER),
        dialogue("tiny-message", ZH_USER, "嗯"),
        dialogue("short", "你好", "你好呀"),
    ]
    config = only(min_turns=2, max_turns=4, min_message_chars=2, min_dialogue_chars=10)
    kept, report = clean(data, config)
    assert ids(kept) == ["ok"]
    assert report.dropped == Counter(
        too_few_turns=1, too_many_turns=1, message_too_short=1, dialogue_too_short=1
    )


def test_too_long_message_truncates_the_dialogue_before_it() -> None:
    data = [
        dialogue("cut", ZH_USER, ZH_REPLY, ZH_USER, "长" * 50, ZH_USER),
        dialogue("gone", "长" * 50, ZH_REPLY),
    ]
    kept, report = clean(data, only(min_turns=2, max_message_chars=40))
    assert ids(kept) == ["cut"]
    assert [m.content for m in kept[0].messages] == [ZH_USER, ZH_REPLY, ZH_USER]
    assert report.truncated["message_too_long"] == 2
    assert report.dropped["too_few_turns"] == 1  # nothing was left before the long message


def test_too_long_dialogue_truncates_at_the_crossing_message() -> None:
    data = [dialogue("cut", ZH_USER, ZH_REPLY, ZH_USER, ZH_REPLY)]
    limit = len(ZH_USER) + len(ZH_REPLY) + 5
    kept, report = clean(data, only(max_dialogue_chars=limit))
    assert len(kept[0].messages) == 2
    assert report.truncated["dialogue_too_long"] == 1


# --- language ----------------------------------------------------------------------------------


def test_language_must_match_the_declared_or_expected_one() -> None:
    data = [
        dialogue("zh", ZH_USER, ZH_REPLY),
        dialogue("mislabelled", EN_USER, EN_REPLY, language="zh"),
        dialogue("en", EN_USER, EN_REPLY, language="en"),
    ]
    kept, report = clean(data, only(check_language=True))
    assert ids(kept) == ["zh", "en"]
    assert report.dropped["language_mismatch"] == 1
    kept, _ = clean(data, only(check_language=True, expected_language="en"))
    assert ids(kept) == ["mislabelled", "en"]
    assert kept[0].language == "en"  # the label now says what the text is
    kept, _ = clean(data, only())
    assert len(kept) == 3


# --- scrubbing ----------------------------------------------------------------------------------


def test_scrub_text_replaces_personal_data_and_counts() -> None:
    counts: Counter[str] = Counter()
    text = (
        "我的手机是13812345678，座机010-62345678，邮箱 li.ming@example.com，"
        "身份证11010519491231002X，银行卡6222020200112233445。热线12355，2023年。"
    )
    scrubbed = scrub_text(text, "zh", counts)
    assert scrubbed == (
        "我的手机是[电话]，座机[电话]，邮箱 [邮箱]，"
        "身份证[身份证号]，银行卡[号码]。热线12355，2023年。"
    )
    assert counts == Counter(phone=2, email=1, id=1, number=1)


def test_scrub_text_english_placeholders_and_optional_urls() -> None:
    counts: Counter[str] = Counter()
    text = "Call me at (415) 555-0199 or +44 20 7946 0958, see https://example.com/me."
    assert scrub_text(text, "en", counts) == (
        "Call me at [PHONE] or [PHONE], see https://example.com/me."
    )
    assert scrub_text(text, "en", counts, urls=True).endswith("see [URL]")
    assert counts["url"] == 1


def test_scrubbing_in_the_pipeline_is_switchable() -> None:
    data = [dialogue("a", "我的电话13812345678", ZH_REPLY)]
    kept, report = clean(data, only(scrub_pii=True))
    assert kept[0].messages[0].content == "我的电话[电话]"
    assert report.scrubbed["phone"] == 1
    assert data[0].messages[0].content == "我的电话13812345678"  # the input is not changed
    kept, report = clean(data, only())
    assert kept[0].messages[0].content == "我的电话13812345678"
    assert sum(report.scrubbed.values()) == 0


# --- self-harm filter ---------------------------------------------------------------------------


def test_self_harm_filter_is_off_by_default_and_screens_both_roles() -> None:
    data = [
        dialogue("user-crisis", "I want to kill myself", EN_REPLY, language="en"),
        dialogue("reply-crisis", EN_USER, "Are you thinking about suicide?", language="en"),
        dialogue("calm", EN_USER, EN_REPLY, language="en"),
    ]
    assert CleaningConfig().drop_self_harm is False
    kept, _ = clean(data, only())
    assert len(kept) == 3
    kept, report = clean(data, only(drop_self_harm=True))
    assert ids(kept) == ["calm"]
    assert report.dropped["self_harm"] == 2
    assert report.examples["self_harm"] == ["user-crisis", "reply-crisis"]


# --- report and defaults --------------------------------------------------------------------------


def test_default_pipeline_report() -> None:
    data = [
        dialogue("a", ZH_USER, ZH_REPLY),
        dialogue("b", ZH_USER, ZH_REPLY),
        dialogue("c", ZH_USER),
        dialogue("d", "我想找人聊聊最近的烦心事。", "我的电话13812345678"),
    ]
    kept, report = clean(data)
    assert ids(kept) == ["a", "d"]
    assert kept[1].messages[1].content == "我的电话[电话]"
    summary = report.to_json()
    assert (summary["input"], summary["output"]) == (4, 2)
    assert summary["dropped"] == {"exact_duplicate": 1, "too_few_turns": 1}
    assert summary["scrubbed"]["phone"] == 1
    assert summary["examples"]["too_few_turns"] == ["c"]


def test_invalid_config_is_rejected() -> None:
    with pytest.raises(ValueError, match="near_dup_threshold"):
        clean([], CleaningConfig(near_dup_threshold=1.5))
