"""The config tests build classes of ``tests.config.strategies_for_tests``, so that module prefix is allowed here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from framework.config.components import allow_targets


@pytest.fixture(autouse=True)
def _allow_test_components() -> Iterator[None]:
    with allow_targets(["tests.config."]):
        yield
