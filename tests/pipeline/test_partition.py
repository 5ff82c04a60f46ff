"""Grouping of feeds and items into mapped tasks (pure functions, no network)."""

from __future__ import annotations

from policy_news.pipeline.partition import interleave_by_host, partition_by_host


def _urls(hosts: int, per_host: int) -> list[str]:
    return [f"https://outlet{h}.example/story-{i}" for h in range(hosts) for i in range(per_host)]


def test_partition_keeps_each_host_in_one_group() -> None:
    urls = _urls(hosts=40, per_host=5)
    groups = partition_by_host(urls, parts=4)
    assert sorted(i for g in groups for i in g) == list(range(len(urls)))
    owner = {}
    for n, group in enumerate(groups):
        for i in group:
            host = urls[i].split("/")[2]
            assert owner.setdefault(host, n) == n
    assert len(groups) == 4


def test_partition_makes_fewer_groups_for_small_runs() -> None:
    urls = _urls(hosts=40, per_host=5)  # 200 URLs
    assert len(partition_by_host(urls, parts=4, min_per_part=250)) == 1
    assert len(partition_by_host(urls, parts=4, min_per_part=100)) == 2
    assert len(partition_by_host(_urls(hosts=400, per_host=5), parts=4, min_per_part=250)) == 4
    assert partition_by_host([], parts=4, min_per_part=250) == []


def test_partition_is_deterministic() -> None:
    urls = _urls(hosts=30, per_host=3)
    assert partition_by_host(urls, 3) == partition_by_host(list(urls), 3)


def test_interleave_round_robins_over_hosts() -> None:
    urls = _urls(hosts=3, per_host=2)  # a0 a1 b0 b1 c0 c1
    assert interleave_by_host(urls, range(len(urls))) == [0, 2, 4, 1, 3, 5]


def test_rejoined_text_follows_its_rows_across_windows_and_chunks(tmp_path) -> None:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from policy_news import staging
    from policy_news.pipeline.validate import _write_rejoined

    n = 23
    ids = [f"a{i:02d}" for i in range(n)]
    text = pa.Table.from_batches(  # several chunks, as read from several staged files
        [
            pa.record_batch({"text": [f"text of {i}" for i in chunk]})
            for chunk in (ids[:7], ids[7:8], ids[8:])
        ]
    )
    kept = np.array([i for i in range(n) if i % 3 != 1 and i not in (7, 8, 9)])
    columns = {c: None for c in staging.SCHEMAS["articles"].names if c != "text"}
    frame = pd.DataFrame({**columns, "article_id": [ids[i] for i in kept]})
    path = tmp_path / "articles.parquet"
    _write_rejoined("articles", frame, text, kept, path, window=4)
    out = staging.read("articles", [path])
    assert out.column("article_id").to_pylist() == [ids[i] for i in kept]
    assert out.column("text").to_pylist() == [f"text of {ids[i]}" for i in kept]
