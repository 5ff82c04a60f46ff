"""Reading the YAML files that describe behaviour (feeds, taxonomy, lexicon, checks).

One reader, so every file fails the same way: a message naming the file and what is
wrong with it, raised as the caller's own error type. Validating the content is each
file's own business (pydantic models beside it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# libyaml's safe loader when PyYAML was built with it (~10x faster than the Python one).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path | str, what: str, error: type[Exception]) -> Any:
    """The parsed content of `path`; `error` names the file when it is missing or not YAML."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{path}: cannot read {what} ({exc.strerror or exc})") from exc
    try:
        return yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML ({exc})") from exc
