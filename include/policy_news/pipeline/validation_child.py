"""A validation process started ahead of time, so Great Expectations imports off the critical path.

`policy-news run` validates in a child process (GX's ~180 MB and its frames never sit
under the load). Started when validation begins, that child spends ~5 CPU-s importing
GX while the run waits for it: on a small poll that import is most of the validation
stage. Started with the run instead, it imports while the run waits on the network.

A large selection stops the warm child before the article stage: the run's memory
peak is the article stage's, and GX must not sit beside it (validation then starts
its own child, as before). A run with no row to validate stops it too: its checks are
judged without GX (quality/plain_checks.py).
"""

from __future__ import annotations

from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from policy_news.extract.pool import spawn_context

if TYPE_CHECKING:
    from collections.abc import Callable

    from policy_news.settings import Settings

T = TypeVar("T")

# Above this many items to fetch, the warm child is stopped before the article stage.
# A poll brings tens to a few hundred; at 10,000 the article stage is the memory peak.
WARM_MAX_ITEMS = 500


def _warm_up(settings: Settings) -> None:
    """Child initializer: everything `validate_run` imports or loads, before it is asked."""
    import great_expectations
    import great_expectations.expectations  # noqa: F401

    from policy_news.pipeline import validate  # noqa: F401  (unpickling validate_run)
    from policy_news.quality import checks, data_docs  # noqa: F401
    from policy_news.tagging.tagger import get_tagger

    get_tagger(settings.taxonomy_path)


def _started() -> None:
    """No-op job: submitting it makes the executor start its process now."""


class ValidationChild:
    """One spawned process that imports the validation stack now and validates later."""

    def __init__(self, settings: Settings) -> None:
        self.executor: ProcessPoolExecutor | None = ProcessPoolExecutor(
            max_workers=1,
            mp_context=spawn_context(),
            initializer=_warm_up,
            initargs=(settings,),
        )
        self.executor.submit(_started)

    @property
    def alive(self) -> bool:
        return self.executor is not None

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` in the child (after its warm-up) and return its result."""
        return self.submit(fn, *args).result()

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Start `fn(*args)` in the child; its result comes later."""
        if self.executor is None:
            raise RuntimeError("the validation child was discarded")
        return self.executor.submit(fn, *args)

    def stop(self) -> None:
        """Stop the child now, mid-import if need be: its GX import must not compete with
        the article stage for CPU, nor hold the run's end while it finishes. At the end
        of a run every result is in, and a spawned interpreter that exits on its own
        spends ~1 s tearing GX down, so the child is terminated then too."""
        if self.executor is not None:
            executor, self.executor = self.executor, None
            processes = list((executor._processes or {}).values())  # no public handle
            executor.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()


def keep_warm_child(items_to_fetch: int) -> bool:
    """Whether a warm validation child may sit beside an article stage of this size."""
    return items_to_fetch <= WARM_MAX_ITEMS
