"""Credentials in tracking URIs are masked in text, config trees, files and log records."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from framework.tracking import flatten_params, mask_credentials, mask_credentials_in, mask_credentials_in_files
from framework.tracking.credentials import mask_log_records

SECRET = "s3cret-Pw"


class TestMaskCredentials:
    @pytest.mark.parametrize(
        ("text", "masked"),
        [
            ("http://lab:s3cret-Pw@mlflow.lab:5000", "http://lab:***@mlflow.lab:5000"),
            ("https://lab:s3cret-Pw@mlflow.lab/prefix/", "https://lab:***@mlflow.lab/prefix/"),
            ("postgresql://mlflow:s3cret-Pw@db:5432/mlflow", "postgresql://mlflow:***@db:5432/mlflow"),
            (
                "postgresql+psycopg2://u:s3cret-Pw@db/m?sslmode=require",
                "postgresql+psycopg2://u:***@db/m?sslmode=require",
            ),
            ("mysql+pymysql://u:s3cret-Pw@db/m", "mysql+pymysql://u:***@db/m"),
            ("mssql+pyodbc://u:s3cret-Pw@dsn", "mssql+pyodbc://u:***@dsn"),
            ("http://:s3cret-Pw@host", "http://:***@host"),
            ("http://u:s3cret@Pw@host:5000/x@y", "http://u:***@host:5000/x@y"),  # a raw "@" in the password
            ("mysql://u@db/m?password=s3cret-Pw&charset=utf8", "mysql://u@db/m?password=***&charset=utf8"),
            ("http://h:5000/api?Token=s3cret-Pw", "http://h:5000/api?Token=***"),
            # Hydra escapes ":" in the overrides a sweep records and logs
            (r"tracking.tracking_uri=http\://u\:s3cret-Pw@h\:9", r"tracking.tracking_uri=http\://u\:***@h\:9"),
            (
                "portfolio sleeves tracking.tracking_uri=http://u:s3cret-Pw@h seed=3 x=https://v:s3cret-Pw@k/",
                "portfolio sleeves tracking.tracking_uri=http://u:***@h seed=3 x=https://v:***@k/",
            ),
        ],
    )
    def test_masks_the_password(self, text: str, masked: str) -> None:
        assert mask_credentials(text) == masked
        assert mask_credentials(masked) == masked  # masking twice changes nothing

    @pytest.mark.parametrize(
        "text",
        [
            "postgresql://mlflow@localhost/db",  # a user name alone is not a secret
            "sqlite:////tmp/lab/mlflow.db",
            "http://127.0.0.1:5000/#/experiments/1/runs/ab12",
            "strategy.short_window=20 broker.cost_bps=5",
            "a user@example.org wrote: ratio 3:2",
        ],
    )
    def test_leaves_text_without_credentials_alone(self, text: str) -> None:
        assert mask_credentials(text) == text

    def test_config_trees(self) -> None:
        config = {
            "tracking": {"tracking_uri": f"http://u:{SECRET}@h:5000", "enabled": True, "run_name": None},
            "portfolio": {"tickers": ["AAPL", f"https://v:{SECRET}@k"], "weights": (0.5, 0.5)},
            "seed": 3,
        }
        masked = mask_credentials_in(config)
        assert masked == {
            "tracking": {"tracking_uri": "http://u:***@h:5000", "enabled": True, "run_name": None},
            "portfolio": {"tickers": ["AAPL", "https://v:***@k"], "weights": (0.5, 0.5)},
            "seed": 3,
        }
        assert config["tracking"]["tracking_uri"] == f"http://u:{SECRET}@h:5000"  # the input is not changed

    def test_flattened_params_are_masked_before_they_are_cut(self) -> None:
        assert flatten_params({"tracking": {"tracking_uri": f"http://u:{SECRET}@h"}}) == {
            "tracking.tracking_uri": "http://u:***@h"
        }
        long_value = "x" * 5990 + f" http://u:{SECRET}@h"  # the password straddles MLflow's 6000-character limit
        (value,) = flatten_params({"notes": long_value}).values()
        assert len(value) == 6000 and "s3cr" not in value


class TestMaskFiles:
    def test_rewrites_only_files_holding_credentials(self, tmp_path: Path) -> None:
        hydra = tmp_path / ".hydra"
        (hydra / "nested").mkdir(parents=True)
        (hydra / "overrides.yaml").write_text(f"- tracking.tracking_uri=http://u:{SECRET}@h\n- seed=1\n")
        (hydra / "nested" / "hydra.yaml").write_text(f"    - tracking.tracking_uri=http\\://u\\:{SECRET}@h\n")
        (hydra / "config.yaml").write_text("seed: 1\n")
        (hydra / "blob.bin").write_bytes(b"\xff\xfe" + SECRET.encode())
        untouched = (hydra / "config.yaml").stat().st_mtime_ns

        rewritten = mask_credentials_in_files(hydra)

        assert sorted(path.name for path in rewritten) == ["hydra.yaml", "overrides.yaml"]
        assert (hydra / "overrides.yaml").read_text() == "- tracking.tracking_uri=http://u:***@h\n- seed=1\n"
        assert (hydra / "nested" / "hydra.yaml").read_text() == "    - tracking.tracking_uri=http\\://u\\:***@h\n"
        assert (hydra / "config.yaml").stat().st_mtime_ns == untouched
        assert (hydra / "blob.bin").read_bytes() == b"\xff\xfe" + SECRET.encode()  # not text: left alone

    def test_a_missing_folder_is_nothing_to_do(self, tmp_path: Path) -> None:
        assert mask_credentials_in_files(tmp_path / "absent") == []


@pytest.fixture
def masking_records() -> Iterator[None]:
    previous = logging.getLogRecordFactory()
    mask_log_records()
    mask_log_records()  # a second call adds nothing
    yield
    logging.setLogRecordFactory(previous)


class TestMaskLogRecords:
    def test_records_of_any_logger_are_masked(self, masking_records: None) -> None:
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        logger = logging.getLogger("tests.tracking.credentials")
        logger.addHandler(handler)
        logger.propagate = False
        try:
            logger.warning("store %s failed", f"http://u:{SECRET}@h:9")
            logger.warning(r"#0 : tracking.tracking_uri=http\://u\:%s@h\:9", SECRET)
            logger.warning("no credentials in %s", "sqlite:///mlflow.db")
        finally:
            logger.removeHandler(handler)
        assert stream.getvalue().splitlines() == [
            "store http://u:***@h:9 failed",
            r"#0 : tracking.tracking_uri=http\://u\:***@h\:9",
            "no credentials in sqlite:///mlflow.db",
        ]

    def test_the_factory_is_installed_once(self, masking_records: None) -> None:
        factory = logging.getLogRecordFactory()
        mask_log_records()
        assert logging.getLogRecordFactory() is factory
