"""The execution and task ids in front of a log line: what they look like, and when they are undone."""

from __future__ import annotations

import logging

from oslo_log import formatters

from mistral import config
from mistral.utils import log_ids


def _record(message: str, *args: object) -> logging.LogRecord:
    logger = logging.getLogger("mistral.test")
    return logger.makeRecord(logger.name, logging.INFO, "f", 1, message, args, None)


def test_the_ids_as_a_line_shows_them() -> None:
    assert log_ids.current() == ""
    execution = log_ids.set_execution("wf-1")
    assert log_ids.current() == "[exec=wf-1] "
    task = log_ids.set_task("t-1")
    assert log_ids.current() == "[exec=wf-1 task=t-1] "
    log_ids.reset_execution(execution)
    assert log_ids.current() == "[task=t-1] "
    log_ids.reset_task(task)
    assert log_ids.current() == ""


def test_a_scope_undoes_what_was_set_inside() -> None:
    outer = log_ids.set_execution("wf-outer")
    with log_ids.Scope():
        log_ids.set_execution("wf-inner")
        log_ids.set_task("t-inner")
        assert log_ids.current() == "[exec=wf-inner task=t-inner] "
    assert log_ids.current() == "[exec=wf-outer] "
    log_ids.reset_execution(outer)


def test_every_record_carries_them_and_installing_twice_changes_nothing() -> None:
    log_ids.install()
    factory = logging.getLogRecordFactory()
    log_ids.install()
    assert logging.getLogRecordFactory() is factory
    token = log_ids.set_task("t-9")
    try:
        record = _record("m")
    finally:
        log_ids.reset_task(token)
    assert record.execution_ids == "[task=t-9] "  # type: ignore[attr-defined]


def test_the_default_oslo_log_formats_print_them_before_the_message() -> None:
    formatter = formatters.ContextFormatter(config=config.CONF)
    token = log_ids.set_execution("wf-2")
    try:
        record = _record("Task %s failed", "t")
    finally:
        log_ids.reset_execution(token)
    assert formatter.format(record).endswith(" [-] [exec=wf-2] Task t failed")
