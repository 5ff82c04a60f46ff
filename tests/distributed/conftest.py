"""The distributed test starts Postgres, Redis, Airflow and two Celery workers (minutes, root).

It is not collected unless POLICY_NEWS_DISTRIBUTED=1, so `make test` and `pytest` leave it
out; `make test-distributed` sets it.
"""

from __future__ import annotations

import os

collect_ignore_glob = [] if os.environ.get("POLICY_NEWS_DISTRIBUTED") == "1" else ["test_*.py"]
