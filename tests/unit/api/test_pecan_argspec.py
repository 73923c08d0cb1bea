import pecan.util
import pytest

from mistral.api import pecan_argspec


class Controller:
    def get_one(self, identifier: str, *namespace: str, **params: str) -> str:
        return identifier


def test_signatures_are_computed_once_and_match_pecans_own() -> None:
    original = pecan.compat.getargspec(Controller().get_one)
    pecan_argspec.install()

    first = pecan.util.getargspec(Controller().get_one)
    again = pecan.util.getargspec(Controller().get_one)  # another instance, another bound method

    assert tuple(first) == tuple(original) == (["self", "identifier"], "namespace", "params", None)
    assert again is first


def test_an_untested_pecan_keeps_its_own_routing(monkeypatch: pytest.MonkeyPatch) -> None:
    own = object()
    monkeypatch.setattr(pecan.util, "_getargspec", own, raising=False)

    assert pecan_argspec.install("2.0.0") is False
    assert pecan_argspec.install("1.8.dev3") is False
    assert pecan.util._getargspec is own


def test_a_tested_pecan_without_the_private_helper_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(pecan.util, "_getargspec")

    assert pecan_argspec.install("1.8.0") is False
    assert not hasattr(pecan.util, "_getargspec")


def test_the_installed_pecan_is_a_tested_one() -> None:
    # NOTE: a new pecan release fails here first: read its pecan.util.getargspec, then add it to TESTED.
    assert pecan_argspec.install() is True
