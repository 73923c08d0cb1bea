"""Every reStructuredText page parses cleanly: a cut heading or broken table fails here, not on a reader."""

from __future__ import annotations

import pathlib

import docutils.core
import docutils.nodes
import docutils.utils
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = sorted([ROOT / "README.rst", *ROOT.glob("doc/**/*.rst"), *ROOT.glob("bench/*.rst")])


def _errors(text: str, source: str) -> list[str]:
    document = docutils.core.publish_doctree(
        text, source_path=source, settings_overrides={"report_level": 5, "halt_level": 5}
    )
    return [
        f"line {m.get('line')}: {m.astext()}"
        for m in document.findall(docutils.nodes.system_message)
        if m["level"] >= docutils.utils.Reporter.WARNING_LEVEL
    ]


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_the_page_parses_without_errors(page: pathlib.Path) -> None:
    assert _errors(page.read_text(encoding="utf-8"), str(page)) == []


def test_a_cut_heading_underline_is_found() -> None:
    assert _errors("Run the tests\n======\n\ntext\n", "sample.rst") != []
