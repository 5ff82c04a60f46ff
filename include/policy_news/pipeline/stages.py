"""Former home of the stages, kept while tools/bench/harness.py and tests/quality import from it.

New code imports from the stage modules (plan, feeds, selection, articles, tag, validate,
load, runner, partition).
"""

from policy_news.pipeline.partition import partition_by_host
from policy_news.pipeline.validate import _detach_text

__all__ = ["_detach_text", "partition_by_host"]
