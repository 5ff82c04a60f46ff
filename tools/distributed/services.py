"""The backing services of the test: Postgres (metadata and Celery results), Redis (broker),
an S3 endpoint (staging). All on loopback ports, data in the run's temporary folder."""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.distributed.processes import HarnessError, ProcessSet, free_port, wait_until

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

DEBIAN_PACKAGES = {"redis-server": "redis-server", "postgresql": "postgres"}
POSTGRES_USER = "postgres"
DB_NAME = "airflow"
DB_ROLE = "airflow"


def ensure_debian_packages() -> None:
    """Install Postgres and Redis from Debian's packages when their binaries are missing."""
    missing = [pkg for pkg, probe in DEBIAN_PACKAGES.items() if not _has_binary(probe)]
    if not missing:
        return
    if os.geteuid() != 0:
        raise HarnessError(
            f"missing {missing}; install them (apt-get install -y {' '.join(missing)})"
        )
    print(f"installing {' '.join(missing)} from Debian packages ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *missing]):
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise HarnessError(
                f"{' '.join(argv)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
            )


def _has_binary(name: str) -> bool:
    return shutil.which(name) is not None or _postgres_bin(name) is not None


def _postgres_bin(name: str) -> Path | None:
    """Debian keeps the server binaries in /usr/lib/postgresql/<major>/bin, off PATH."""
    for major in sorted(Path("/usr/lib/postgresql").glob("*"), reverse=True):
        candidate = major / "bin" / name
        if candidate.is_file():
            return candidate
    found = shutil.which(name)
    return Path(found) if found else None


@dataclass(frozen=True)
class Postgres:
    port: int

    @property
    def sqlalchemy_url(self) -> str:
        return f"postgresql+psycopg2://{DB_ROLE}@127.0.0.1:{self.port}/{DB_NAME}"

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user={DB_ROLE} dbname={DB_NAME}"


def start_postgres(processes: ProcessSet, root: Path) -> Postgres:
    """A throwaway cluster: trust auth on 127.0.0.1 only, no fsync (the data is thrown away).

    Postgres refuses to run as root, so as root it runs as the `postgres` user.
    """
    initdb, server = _postgres_bin("initdb"), _postgres_bin("postgres")
    if initdb is None or server is None:
        raise HarnessError("Postgres server binaries not found (apt-get install postgresql)")
    user = POSTGRES_USER if os.geteuid() == 0 else None
    root.mkdir(parents=True)
    root.parent.chmod(0o755)  # a TemporaryDirectory is 0700: let the postgres user in
    data = root / "pgdata"
    data.mkdir(mode=0o700)
    if user:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
        os.chown(data, entry.pw_uid, entry.pw_gid)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"}
    done = subprocess.run(
        [str(initdb), "-D", str(data), "-U", DB_ROLE, "--auth=trust", "--no-sync", "-E", "UTF8"],
        env=env,
        user=user,
        group=user,
        extra_groups=[] if user else None,
        capture_output=True,
        text=True,
        check=False,
        cwd=root,
    )
    if done.returncode != 0:
        raise HarnessError(f"initdb failed:\n{done.stdout[-1500:]}{done.stderr[-1500:]}")
    port = free_port()
    settings = {
        "listen_addresses": "127.0.0.1",
        "unix_socket_directories": str(root),
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",
    }
    argv = [str(server), "-D", str(data), "-p", str(port)]
    for key, value in settings.items():
        argv += ["-c", f"{key}={value}"]
    # SIGINT is Postgres's fast shutdown; SIGTERM would wait for every client to leave.
    processes.start("postgres", argv, env, cwd=root, user=user, stop_signal=signal.SIGINT)
    postgres = Postgres(port)
    wait_until(lambda: _create_database(postgres), 60, "Postgres to accept connections", 0.5)
    return postgres


def _create_database(postgres: Postgres) -> bool:
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=postgres.port, user=DB_ROLE, dbname="postgres")
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME])
            if cur.fetchone() is None:
                cur.execute(f"CREATE DATABASE {DB_NAME}")
    finally:
        conn.close()
    return True


def start_redis(processes: ProcessSet, root: Path) -> str:
    """A Redis without persistence on a loopback port; returns the broker URL."""
    server = shutil.which("redis-server")
    if server is None:
        raise HarnessError("redis-server not found (apt-get install redis-server)")
    port = free_port()
    argv = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    argv += ["--dir", str(root)]
    processes.start("redis", argv, dict(os.environ), cwd=root)

    def ping() -> bool:
        import redis

        return bool(redis.Redis(host="127.0.0.1", port=port, socket_timeout=2).ping())

    wait_until(ping, 30, "Redis to answer PING", 0.3)
    return f"redis://127.0.0.1:{port}/0"


@dataclass
class S3Endpoint:
    server: ThreadedMotoServer
    url: str
    bucket: str

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def object_sizes(self, prefix: str = "") -> dict[str, int]:
        pages = self.client().get_paginator("list_objects_v2")
        sizes: dict[str, int] = {}
        for page in pages.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                sizes[item["Key"]] = int(item["Size"])
        return sizes


def start_s3(bucket: str) -> S3Endpoint:
    """moto's S3 in a thread of this process, on a loopback port, with one bucket."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = S3Endpoint(server, f"http://127.0.0.1:{port}", bucket)
    wait_until(lambda: endpoint.client().create_bucket(Bucket=bucket), 30, "the S3 endpoint")
    return endpoint


def python_bin(name: str) -> str:
    """A console script of the interpreter running the harness (airflow, policy-news)."""
    script = Path(sys.executable).with_name(name)
    if not script.exists():
        raise HarnessError(f"{script} not found: install the project (make install)")
    return str(script)
