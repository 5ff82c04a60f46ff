"""The shared extraction pool: one per process, shared by nested blocks, closed by the last."""

from __future__ import annotations

from collections.abc import Callable

from policy_news.extract.pool import extraction_pool, shared_pool_open
from policy_news.settings import Settings


def test_nested_blocks_share_one_pool_until_the_last_exits(
    make_settings: Callable[..., Settings],
) -> None:
    two_workers = make_settings(extract_workers=2)  # no job is submitted: no process starts
    with extraction_pool(two_workers) as outer:
        with extraction_pool(two_workers) as inner:
            assert outer is not None and inner is outer
        assert shared_pool_open()
    assert not shared_pool_open()


def test_one_worker_means_no_pool(settings: Settings) -> None:
    with extraction_pool(settings) as pool:  # the fixture sets extract_workers=1
        assert pool is None
        assert not shared_pool_open()
