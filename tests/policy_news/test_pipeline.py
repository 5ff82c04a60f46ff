"""Grouping of feeds and items into mapped tasks (pure functions, no network)."""

from __future__ import annotations

from policy_news.pipeline import interleave_by_host, partition_by_host


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
