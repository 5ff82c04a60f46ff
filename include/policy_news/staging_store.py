"""Where run folders live: a local folder or an object store, behind one small path type.

Any task of a run may run on another machine, so everything one task hands to the next
(staged Parquet, the manifest, the feed states) lives under `POLICY_NEWS_STAGING_URL`:
`file://…` by default, `s3://bucket/prefix` (or any fsspec URL) in production. Remote
stores are reached through Airflow's `ObjectStoragePath` with the connection
`POLICY_NEWS_STAGING_CONN_ID` when Airflow can find it (inside a task, or given as an
`AIRFLOW_CONN_*` variable), else through plain fsspec with the environment's credentials,
so the CLI needs no Airflow.

Writes appear whole or not at all: locally a temp file renamed into place, remotely one
upload committed on success (objects cannot be renamed cheaply, and need not be). A retry
overwrites the same keys.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import fsspec
from fsspec.core import split_protocol

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pyarrow as pa
    from fsspec import AbstractFileSystem

    from policy_news.settings import Settings

LOCAL_PROTOCOLS = frozenset({"file", "local"})


@dataclass(frozen=True)
class StagedPath:
    """A file or folder in the staging store: its filesystem and its path there.

    `str()` gives the URL (`file:///…`, `s3://bucket/…`): what contracts and XCom carry.
    """

    fs: AbstractFileSystem
    path: str

    def __truediv__(self, name: str) -> StagedPath:
        return StagedPath(self.fs, f"{self.path.rstrip('/')}/{name}")

    def __str__(self) -> str:
        return self.url

    @property
    def url(self) -> str:
        return str(self.fs.unstrip_protocol(self.path))

    @property
    def name(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    @property
    def is_local(self) -> bool:
        return _is_local(self.fs)

    def exists(self) -> bool:
        return bool(self.fs.exists(self.path))

    def require(self) -> StagedPath:
        """This path, or FileNotFoundError naming it: a staged file a stage needs is gone."""
        if not self.exists():
            raise FileNotFoundError(f"staged file missing: {self.url}")
        return self

    def read_bytes(self) -> bytes:
        return bytes(self.require().fs.cat_file(self.path))

    def read_text(self) -> str:
        return self.read_bytes().decode("utf-8")

    def write_bytes(self, data: bytes) -> None:
        with self.open_atomic() as out:
            out.write(data)

    def write_text(self, text: str) -> None:
        self.write_bytes(text.encode("utf-8"))

    @contextmanager
    def open_atomic(self) -> Iterator[Any]:
        """A binary file to write; the file appears at this path only if the block succeeds."""
        if self.is_local:
            with _local_atomic(Path(self.path)) as out:
                yield out
        else:
            with _remote_atomic(self.fs, self.path) as out:
                yield out

    def open_read(self) -> IO[bytes]:
        return self.require().fs.open(self.path, "rb")

    def read_parquet(self) -> pa.Table:
        import pyarrow.parquet as pq

        return pq.read_table(self.require().path, filesystem=self.fs)

    def write_parquet(self, table: pa.Table) -> None:
        import pyarrow.parquet as pq

        with self.open_atomic() as out:
            pq.write_table(table, out)

    def remove_tree(self) -> None:
        """Delete this folder and everything under it; a missing folder is fine."""
        if self.fs.exists(self.path):
            self.fs.rm(self.path, recursive=True)


def _is_local(fs: AbstractFileSystem) -> bool:
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return bool(LOCAL_PROTOCOLS.intersection(protocols))


@contextmanager
def _local_atomic(path: Path) -> Iterator[Any]:
    import pyarrow as pa

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    # A native Arrow file: Parquet writers then write without holding the GIL.
    out = pa.OSFile(str(tmp), "wb")
    try:
        yield out
        out.close()  # flushes: a full disk can fail here too
        tmp.replace(path)
    except BaseException:
        if not out.closed:
            out.close()
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def _remote_atomic(fs: AbstractFileSystem, path: str) -> Iterator[Any]:
    # Without autocommit the upload is completed by commit() and dropped by discard(),
    # so a failed writer never leaves a partial object behind.
    out = fs.open(path, "wb", autocommit=False)
    try:
        yield out
        out.close()
    except BaseException:
        out.close()
        out.discard()
        raise
    out.commit()


def _airflow_can_find(conn_id: str) -> bool:
    """Inside an Airflow task every secrets backend answers; outside, only the env var."""
    return "AIRFLOW_CTX_DAG_ID" in os.environ or f"AIRFLOW_CONN_{conn_id.upper()}" in os.environ


@cache
def _remote_filesystem(protocol: str, conn_id: str, through_airflow: bool) -> AbstractFileSystem:
    if through_airflow:
        from airflow.sdk import ObjectStoragePath

        return ObjectStoragePath(f"{protocol}://", conn_id=conn_id).fs
    return fsspec.filesystem(protocol)


def filesystem_for(url: str, conn_id: str | None) -> AbstractFileSystem:
    """The filesystem holding `url`: local, or the remote store (through Airflow if it can)."""
    protocol = split_protocol(url)[0] or "file"
    if protocol in LOCAL_PROTOCOLS:
        return fsspec.filesystem("file")
    via_airflow = bool(conn_id) and _airflow_can_find(str(conn_id))
    return _remote_filesystem(protocol, conn_id or "", via_airflow)


def locate(where: StagedPath | Path | str, conn_id: str | None = None) -> StagedPath:
    """A staged file from what a contract carries (a URL or a local path).

    Remote URLs use the connection `conn_id`, by default the configured staging one.
    """
    if isinstance(where, StagedPath):
        return where
    url = str(where)
    if conn_id is None and split_protocol(url)[0] not in (None, *LOCAL_PROTOCOLS):
        from policy_news.settings import get_settings

        conn_id = get_settings().staging_conn_id
    fs = filesystem_for(url, conn_id)
    return StagedPath(fs, str(fs._strip_protocol(url)))


def safe_name(run_id: str) -> str:
    """A run id as one path segment (Airflow's contain ':' and '+')."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)


def staging_root(settings: Settings) -> StagedPath:
    return locate(settings.staging_url, settings.staging_conn_id)


def run_folder(settings: Settings, run_id: str) -> StagedPath:
    """The run's folder in the staging store, found from the run id alone."""
    return staging_root(settings) / safe_name(run_id)
