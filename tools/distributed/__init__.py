"""The real multi-process test of the Celery deployment (`make test-distributed`).

Runs Airflow 3 with the CeleryExecutor on this machine against throwaway Postgres, Redis and
an S3 endpoint, with two Celery workers that cannot see each other's files (one private mount
namespace each), and checks that an ingest run through them gives what `policy-news run` gives.
"""
