"""Mask credentials in tracking URIs and in any text that may hold one: the one place that decides what is secret.

A tracking URI may carry a password (``http://user:password@host``, ``postgresql://user:password@host/db``) or a
token in its query (``?password=...``, ``?token=...``). The URI travels into MLflow params and tags, the run name,
``config.yaml``, Hydra's ``.hydra/`` files, printed hints and log lines: each of those goes through
:func:`mask_credentials` (or its helpers for containers, files and log records) before it is written or printed.
The store itself is still opened with the real URI.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

MASK = "***"

# scheme://user:password@ -> scheme://user:***@ . The password runs to the last "@" before the end of the
# authority ("/", "?", "#", whitespace or a character a URI cannot hold), so a raw "@" in it is masked too.
# Hydra escapes ":" in the overrides it records and logs in a sweep (http\://user\:password@...): matched too.
_PASSWORD = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*\\?://[^/?#@:\s\"'<>\\]*)(?P<separator>\\?:)[^/?#\[\]\s\"<>{}|^`]*@"
)
# ?password=... &token=... in a URI's query.
_QUERY_SECRET = re.compile(
    r"(?P<head>[?&](?:password|passwd|pwd|token|access_token|api_key|apikey|secret)=)[^&#\s\"'<>]*", re.IGNORECASE
)


def mask_credentials(text: str) -> str:
    r"""``text`` with the password of every ``scheme://user:password@`` and every secret query value masked.

    Args:
        text: A URI, or any text that may contain URIs (an override list, a message, a config value).

    Returns:
        The text with each password and each ``password``/``token``/``secret``/``api_key`` query value replaced
        by ``***``; text without credentials is returned unchanged.

    Example:
        >>> mask_credentials("http://lab:s3cret@mlflow.lab:5000")
        'http://lab:***@mlflow.lab:5000'
        >>> mask_credentials("tracking.tracking_uri=postgresql+psycopg://u:p@ss@db/mlflow?sslmode=require")
        'tracking.tracking_uri=postgresql+psycopg://u:***@db/mlflow?sslmode=require'
        >>> mask_credentials("mysql://u@db/mlflow?password=x&charset=utf8 and sqlite:///mlflow.db")
        'mysql://u@db/mlflow?password=***&charset=utf8 and sqlite:///mlflow.db'
        >>> print(mask_credentials(r"#0 : tracking.tracking_uri=http\://u\:pw@host\:5000"))  # as Hydra logs it
        #0 : tracking.tracking_uri=http\://u\:***@host\:5000
    """
    if "://" not in text and "=" not in text:
        return text
    return _QUERY_SECRET.sub(rf"\g<head>{MASK}", _PASSWORD.sub(rf"\g<head>\g<separator>{MASK}@", text))


def mask_credentials_in(value: Any) -> Any:
    """A copy of a config tree (mappings, lists, tuples) with :func:`mask_credentials` applied to every string.

    Args:
        value: A resolved config, or any part of one.

    Returns:
        The same shape with every string masked; other leaves unchanged.

    Example:
        >>> mask_credentials_in({"tracking": {"tracking_uri": "https://u:pw@host", "enabled": True}, "x": [1, "a"]})
        {'tracking': {'tracking_uri': 'https://u:***@host', 'enabled': True}, 'x': [1, 'a']}
    """
    if isinstance(value, str):
        return mask_credentials(value)
    if isinstance(value, Mapping):
        return {key: mask_credentials_in(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(mask_credentials_in(item) for item in value)
    return value


def mask_credentials_in_files(folder: Path) -> list[Path]:
    """Rewrite the text files under ``folder`` (such as Hydra's ``.hydra/``) that hold credentials, masked.

    Files without credentials, and files that are not UTF-8 text, are left as they are.

    Args:
        folder: The folder to scan, recursively; a missing folder is nothing to do.

    Returns:
        The files rewritten.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "overrides.yaml").write_text("- tracking.tracking_uri=http://u:pw@host" + chr(10))
        >>> [path.name for path in mask_credentials_in_files(folder)], (folder / "overrides.yaml").read_text().strip()
        (['overrides.yaml'], '- tracking.tracking_uri=http://u:***@host')
        >>> mask_credentials_in_files(folder)
        []
    """
    paths = sorted(Path(folder).rglob("*")) if Path(folder).is_dir() else []
    return [path for path in paths if mask_credentials_in_file(path)]


def mask_credentials_in_file(path: Path) -> bool:
    """Rewrite one text file masked if it holds credentials; leave a binary, missing or linked file alone.

    Args:
        path: The file, such as the ``multirun.yaml`` Hydra writes into a sweep folder.

    Returns:
        Whether the file was rewritten.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "multirun.yaml"
        >>> mask_credentials_in_file(path)
        False
        >>> _ = path.write_text("tracking_uri: mysql://u:pw@db/m")
        >>> mask_credentials_in_file(path), path.read_text()
        (True, 'tracking_uri: mysql://u:***@db/m')
    """
    if not path.is_file() or path.is_symlink():
        return False
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return False
    masked = mask_credentials(text)
    if masked == text:
        return False
    path.write_text(masked, encoding="utf-8")
    return True


def mask_log_records() -> None:
    """Mask credentials in every log record created from now on in this process (Hydra's, MLflow's, ours).

    Installs a log record factory, so it holds whichever handlers Hydra configures later. A record whose message
    holds credentials gets the masked message, already formatted (``args`` emptied). Calling it again does
    nothing more.

    Example:
        >>> previous = logging.getLogRecordFactory()
        >>> mask_log_records()
        >>> logging.getLogRecordFactory()("lab", logging.INFO, "f", 1, "at %s", ("http://u:pw@h",), None).getMessage()
        'at http://u:***@h'
        >>> logging.setLogRecordFactory(previous)
    """
    factory = logging.getLogRecordFactory()
    if getattr(factory, "masks_credentials", False):
        return

    def masking_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is left for logging to report
            return record
        masked = mask_credentials(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return record

    masking_factory.masks_credentials = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(masking_factory)
