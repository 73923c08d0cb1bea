import pathlib

import pytest

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "workflows"


@pytest.fixture
def fixture_text():
    def read(name: str) -> str:
        return (FIXTURES / f"{name}.yaml").read_text()

    return read
