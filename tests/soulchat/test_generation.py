"""One definition of the decoding parameters: the settings group, the job's params and
evaluation's config share ``soulchat.generation.GenerationParams``."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from inference.job import GenerationParams
from soulchat.config import GenerationSettings, Settings
from soulchat.generation import GenerationParams as Defined
from training.evaluation.generate import GenerationConfig, eval_params

FIELDS = ["max_new_tokens", "temperature", "top_p", "repetition_penalty"]


def test_one_definition() -> None:
    assert GenerationParams is Defined
    assert issubclass(GenerationSettings, GenerationParams)
    assert list(GenerationSettings.model_fields) == list(GenerationParams.model_fields) == FIELDS
    assert isinstance(GenerationConfig().params, GenerationParams)


def test_defaults_are_the_methods_and_evaluation_is_greedy() -> None:
    assert GenerationParams().model_dump() == {
        "max_new_tokens": 256,
        "temperature": 0.95,
        "top_p": 0.75,
        "repetition_penalty": 1.1,
    }
    assert Settings().generation.model_dump() == GenerationParams().model_dump()
    assert eval_params().model_dump() == {
        "max_new_tokens": 128,
        "temperature": 0.0,
        "top_p": 1.0,
        "repetition_penalty": 1.1,
    }
    assert eval_params().greedy and not GenerationParams().greedy


def test_the_job_json_shape_is_unchanged() -> None:
    # Workers and bots of different versions exchange it: same keys, and keys a newer
    # sender adds are ignored rather than refused.
    sent = {"max_new_tokens": 64, "temperature": 0.7, "top_p": 0.9, "repetition_penalty": 1.0}
    assert GenerationParams.model_validate(sent).model_dump(mode="json") == sent
    assert GenerationParams.model_validate({**sent, "min_p": 0.1}).model_dump() == sent


def test_settings_refuse_misspelt_and_out_of_range_values() -> None:
    with pytest.raises(ValidationError):
        GenerationSettings.model_validate({"max_tokens": 10})
    for bad in ({"top_p": 0}, {"top_p": 1.5}, {"temperature": -1}, {"max_new_tokens": 0}):
        with pytest.raises(ValidationError):
            GenerationSettings.model_validate(bad)
        with pytest.raises(ValidationError):
            GenerationParams.model_validate(bad)


def test_evaluation_records_its_settings_flat() -> None:
    config = GenerationConfig(params=eval_params(max_new_tokens=20), seed=3)
    assert config.to_json() == {
        "style": "chat_template",
        "max_new_tokens": 20,
        "temperature": 0.0,
        "top_p": 1.0,
        "repetition_penalty": 1.1,
        "seed": 3,
        "batch_size": 8,
        "max_context_tokens": 2048,
    }
    assert config.prompt_budget == 2048 - 20
