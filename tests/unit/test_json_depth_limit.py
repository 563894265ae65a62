"""The JSON depth check reads brackets, not brackets inside strings, and never recurses."""

import pytest

from chalicelib.json_limits import MAX_JSON_DEPTH, JsonTooDeep, check_depth, loads


def test_a_hundred_thousand_open_brackets_are_too_deep():
    with pytest.raises(JsonTooDeep):
        check_depth(b"[" * 100_000)


def test_depth_at_the_limit_is_accepted_and_one_more_is_not():
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert loads(at_limit) == loads(at_limit)  # parses
    with pytest.raises(JsonTooDeep):
        check_depth("{" + '"a":' + at_limit + "}")


def test_brackets_inside_strings_do_not_count():
    text = '{"note": "' + "[" * 1000 + '\\"' + "{" * 1000 + '"}'
    check_depth(text)
    assert loads(text)["note"].startswith("[[[")


def test_many_shallow_arrays_are_fine():
    check_depth("[" + ",".join(["[1, {}]"] * 10_000) + "]")


def test_invalid_json_is_a_value_error():
    with pytest.raises(ValueError):
        loads(b"\xff\xfe{")
