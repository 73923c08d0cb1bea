import pecan.util

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
