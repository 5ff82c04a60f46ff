"""What GX sees of each stage frame: derived columns, record keys, the suite input.

GX copies the whole frame for each expectation, so the frame it gets is narrowed to
what the checks read and long text is replaced by its length; the input rows stay
available (as JSON, when first asked for) for the quarantine table.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from policy_news.quality.values import dumps, utc_series

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping, Sequence

    import pyarrow as pa

    from policy_news.quality.config import SuiteConfig

_LANGUAGE_RE = re.compile(r"([A-Za-z]{2})(?:[-_](?:[A-Za-z]{2}|\d{3}))?")


def _normalise_language(value: Any) -> Any:
    """'en', 'EN', 'en-US', 'pt_BR' -> primary subtag; blank -> None; anything else as is."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    if not text:
        return None
    m = _LANGUAGE_RE.fullmatch(text)
    return m.group(1).lower() if m else text


def _lengths(column: pd.Series) -> pd.Series:
    """Characters per value (null -> 0), vectorised: no Python string per row."""
    if not column.notna().any():
        return pd.Series(0, index=column.index, dtype="int64")
    return column.str.len().fillna(0).astype("int64")


def _field_lengths(rows: pd.DataFrame, articles: pd.DataFrame | None) -> pd.Series:
    """Length of the field (text/title/summary) of each row's article; NaN when unknown."""
    result = pd.Series(float("nan"), index=rows.index, dtype="float64")
    if articles is None or articles.empty or "article_id" not in articles or rows.empty:
        return result
    if "field" not in rows or "article_id" not in rows:
        return result
    fields = ("text", "title", "summary", "dq_text_chars")
    present = ["article_id", *(c for c in fields if c in articles)]
    firsts = articles[present].drop_duplicates("article_id", keep="first").set_index("article_id")
    for field_name in ("text", "title", "summary"):
        if field_name in firsts:
            lengths = _lengths(firsts[field_name])
        elif field_name == "text" and "dq_text_chars" in firsts:  # text detached: its length
            lengths = firsts["dq_text_chars"].fillna(0).astype("int64")
        else:
            continue
        mask = rows["field"] == field_name
        if mask.any():
            result.loc[mask] = rows.loc[mask, "article_id"].map(lengths).astype("float64")
    return result


def record_keys(frame: pd.DataFrame, key_columns: Sequence[str]) -> list[str]:
    """Key columns joined with '|'; rows without any key are named by their batch position."""
    keys: list[str] = []
    present = [c for c in key_columns if c in frame.columns]
    for label, *row in frame[present].itertuples(index=True, name=None):
        parts = [
            "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in row
        ]
        keys.append("|".join(parts) if any(parts) else f"row:{label}")
    return keys


@dataclass
class SuiteInput:
    """One suite's frame: `raw` is the input (positional index), `frame` what GX sees."""

    suite: str
    config: SuiteConfig
    raw: pd.DataFrame | None
    frame: pd.DataFrame | None
    skipped: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    skip_checks: dict[str, str] = field(default_factory=dict)
    detached: pa.Table | None = None  # columns of `raw` kept out of pandas, same rows
    _raw_json: dict[int, str] = field(default_factory=dict)

    def raw_records(self, positions: Sequence[int]) -> list[str]:
        """The input rows at `positions` as JSON, converted when first asked for.

        Only those rows: converting the whole frame held every article's text as dicts
        and JSON (~260 MB for 10,000 articles) to quarantine a few of them. One take per
        call, as row-by-row access to Arrow-backed columns costs ~35 ms a row. Detached
        columns (the article text) are part of the record; derived `dq_` columns are not.
        """
        missing = sorted({p for p in positions if p not in self._raw_json})
        if missing and self.raw is not None:
            valid = [p for p in missing if 0 <= p < len(self.raw)]
            rows = self.raw.iloc[valid]
            rows = rows.drop(columns=[c for c in rows.columns if str(c).startswith("dq_")])
            records = rows.to_dict(orient="records") if valid else []
            if self.detached is not None:
                for pos, record in zip(valid, records, strict=True):
                    # a one-row slice: take() would concatenate the whole column first
                    record.update(self.detached.slice(pos, 1).to_pylist()[0])
            for pos, record in zip(valid, records, strict=True):
                self._raw_json[pos] = dumps(record)
        return [self._raw_json.get(p, "{}") for p in positions]


def prepare_frame(
    stage: str, raw: pd.DataFrame, frames: Mapping[str, pd.DataFrame]
) -> pd.DataFrame:
    """The frame GX validates for `stage`: no blobs, plus the derived `dq_` columns."""
    frame = raw.drop(columns=[c for c in ("raw_html_gz",) if c in raw.columns])
    if stage == "feed_items":
        if "title" in frame:
            frame["dq_title"] = frame["title"].fillna("").astype(str)
    elif stage == "articles":
        if "text" in frame:
            # GX copies the whole frame for each expectation, and the text is most of an
            # article row (10,000 articles: +230 MB per expectation); the only check on
            # it is its length, so GX gets the length and not the text.
            text = frame.pop("text")
            frame["dq_text_chars"] = _lengths(text)
        # Staged before the column existed: pages without body text were failures then.
        status = frame.get("extraction_status")
        frame["extraction_status"] = "ok" if status is None else status.fillna("ok")
        if "language" in frame:
            frame["dq_language"] = frame["language"].map(_normalise_language).astype(object)
        for column in ("published_at", "fetched_at"):
            if column in frame:
                frame[column] = utc_series(frame[column])
    elif stage in ("article_topics", "article_facts"):
        frame["dq_field_length"] = _field_lengths(frame, frames.get("articles"))
        if stage == "article_facts" and "kind" in frame and "normalized" in frame:
            numbers = pd.to_numeric(frame["normalized"], errors="coerce")
            frame["dq_count_value"] = numbers.where(frame["kind"] == "count")
    return frame
