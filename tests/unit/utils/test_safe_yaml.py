"""Every YAML reader shares one loader: aliases stay text, nesting is bounded, dumps carry no aliases."""

from __future__ import annotations

import time
import tracemalloc

import pytest
import yaml

from mistral.event_engine import definitions as event_definitions
from mistral.exceptions import ExpressionError, InputError, InvalidSpecError
from mistral.expressions import evaluator
from mistral.lang import inline, yaml_loader
from mistral.utils import nesting, safe_yaml

#: "Billion laughs": nine levels of nine aliases, 9**9 strings once expanded; well under 1 KB.
BOMB = "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n" + "".join(
    f"{b}: &{b} [*{a},*{a},*{a},*{a},*{a},*{a},*{a},*{a},*{a}]\n"
    for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)
FLOW_BOMB = (
    "{a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol], "
    + ", ".join(
        f"{b}: &{b} [*{a},*{a},*{a},*{a},*{a},*{a},*{a},*{a},*{a}]"
        for a, b in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "}"
)
DEEP = "[" * 100_000 + "]" * 100_000


def _cheap(func, *args):
    """``func(*args)``, asserting it takes under half a second and under 10 MB (measured apart)."""
    started = time.monotonic()
    try:
        func(*args)
    except Exception:  # noqa: BLE001, S110 - the second call raises it to the test
        pass
    assert time.monotonic() - started < 0.5
    tracemalloc.start()
    try:
        return func(*args)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 10 * 1024 * 1024


def test_sizes_of_the_hostile_inputs():
    assert len(BOMB) < 1024 and len(FLOW_BOMB) < 1024
    # The bomb is real: PyYAML's own safe loader expands it (only its first levels here).
    assert len(yaml.safe_load(BOMB.split("d:")[0])["c"]) == 9


def test_a_bomb_stays_text():
    assert _cheap(safe_yaml.load, BOMB)["i"] == "&i [*h,*h,*h,*h,*h,*h,*h,*h,*h]"


def test_a_flow_bomb_is_malformed():
    # In flow style an anchor read as text is followed by a bracket: not YAML, as in Mistral.
    with pytest.raises(yaml.YAMLError, match="expected ',' or '}'"):
        _cheap(safe_yaml.load, FLOW_BOMB)


def test_deep_nesting_is_an_error_naming_the_limit():
    with pytest.raises(yaml.YAMLError, match=f"nested deeper than {nesting.MAX_DEPTH} levels"):
        _cheap(safe_yaml.load, DEEP)
    depth = nesting.MAX_DEPTH
    assert safe_yaml.load("[" * depth + "]" * depth) is not None


def test_a_dump_of_shared_objects_reads_back():
    shared = [1, 2]
    data = {"x": shared, "y": shared}
    assert safe_yaml.load(safe_yaml.dump(data)) == data


def test_dsl_documents():
    with pytest.raises(InvalidSpecError, match="nested deeper than"):
        _cheap(yaml_loader.load, "wf:\n  input: " + DEEP)
    assert _cheap(yaml_loader.load, BOMB).data["b"].startswith("&b")


def test_inline_collections():
    # Malformed as YAML, the collection stays the text it was.
    assert _cheap(inline.parse_params, f"p={FLOW_BOMB}")["p"] == FLOW_BOMB
    assert _cheap(inline.parse_params, "p=[[x],*a,*a]")["p"] == [["x"], "*a", "*a"]
    with pytest.raises(inline.InlineSyntaxError, match="invalid list literal"):
        _cheap(inline.parse_with_items, f"x in [{FLOW_BOMB}]")
    with pytest.raises(inline.InlineSyntaxError, match="nested deeper than"):
        _cheap(inline.parse_with_items, f"x in {DEEP}")
    with pytest.raises(inline.InlineSyntaxError, match="the collection is nested deeper than"):
        _cheap(inline.parse_params, f"p={DEEP}")
    with pytest.raises(inline.InlineSyntaxError, match="the collection is nested deeper than"):
        _cheap(inline.parse_params, "p=[" + "[x, " * 200 + "]" * 200 + "]")


def test_yaml_parse_function():
    assert _cheap(evaluator.evaluate, "<% yaml_parse($.t)['b'] %>", {"t": BOMB}).startswith("&b")
    with pytest.raises(ExpressionError, match="nested deeper than"):
        _cheap(evaluator.evaluate, "<% yaml_parse($.t) %>", {"t": DEEP})


def test_event_definitions(tmp_path):
    path = tmp_path / "events.yaml"
    indented = "".join(f"    {line}\n" for line in BOMB.splitlines())
    path.write_text("- event_types: [x]\n  properties:\n" + indented)
    (found,) = _cheap(event_definitions.load, str(path))
    assert found.properties["i"] == "&i [*h,*h,*h,*h,*h,*h,*h,*h,*h]"
    path.write_text(DEEP)
    with pytest.raises(InputError, match="nested deeper than"):
        event_definitions.load(str(path))
