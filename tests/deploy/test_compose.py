"""docker-compose.yml, the Dockerfile and deploy/ checked by structure (no Docker engine here):
services, the commands they run (each parsed by the real CLI parser), ports, volumes,
healthchecks, the GPU reservation, environment variables, and the Prometheus/Alertmanager files
checked by promtool/amtool where those are installed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.settings import Settings
from modelwatch.cli import build_parser
from tests.conftest import REPO_ROOT, unavailable

COMPOSE = REPO_ROOT / "docker-compose.yml"
MODELWATCH_SERVICES = {"migrate", "collector", "scheduler", "shadow-runner", "dashboard", "rules"}
LONG_RUNNING = {"timescaledb", "collector", "scheduler", "shadow-runner", "dashboard", "prometheus", "alertmanager"}
# Variables the services read that are not Settings fields: named by monitors.yaml receivers.
RECEIVER_SECRETS = {"MODELWATCH_WEBHOOK_SECRET", "PAGERDUTY_ROUTING_KEY", "SLACK_WEBHOOK_URL"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def _interpolate(value: str, env: dict[str, str] | None = None) -> str:
    """Compose's ${VAR:-default} with VAR unset (or taken from ``env``)."""
    env = env or {}
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: env.get(m.group(1)) or m.group(2), value)


def _subcommands(parser: Any) -> set[str]:
    action = next(a for a in parser._subparsers._group_actions)
    return set(action.choices)


def test_every_service_of_the_stack_is_there(services: dict[str, Any]) -> None:
    assert LONG_RUNNING | MODELWATCH_SERVICES <= set(services)
    assert services["timescaledb"]["image"].startswith("timescale/timescaledb:")
    assert services["prometheus"]["image"].startswith("prom/prometheus:")
    assert services["alertmanager"]["image"].startswith("prom/alertmanager:")


@pytest.mark.parametrize("name", sorted(MODELWATCH_SERVICES))
def test_each_modelwatch_command_exists_in_the_cli(services: dict[str, Any], name: str) -> None:
    command = services[name]["command"]
    assert command[0] == "modelwatch", command
    parser = build_parser()
    assert command[1] in _subcommands(parser), f"{name}: no `modelwatch {command[1]}` command"
    try:
        args = parser.parse_args(command[1:])
    except SystemExit as exit_:
        pytest.fail(f"{name}: `{' '.join(command)}` does not parse (exit {exit_.code})")
    assert callable(args.func)


def test_long_running_services_have_healthchecks_and_restart(services: dict[str, Any]) -> None:
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck")
        assert check and check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert services[name].get("restart") == "unless-stopped", name
    # One-shot jobs must not restart, or `up` never settles.
    assert services["migrate"]["restart"] == "no" and services["rules"]["restart"] == "no"


def test_startup_order_waits_for_the_database_and_migrations(services: dict[str, Any]) -> None:
    assert services["migrate"]["depends_on"]["timescaledb"]["condition"] == "service_healthy"
    for name in ("collector", "scheduler", "shadow-runner", "dashboard"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
    assert services["prometheus"]["depends_on"]["rules"]["condition"] == "service_completed_successfully"


def test_published_ports_match_what_each_service_listens_on(services: dict[str, Any]) -> None:
    published = {name: [_interpolate(p) for p in services[name].get("ports", [])] for name in services}
    assert published["collector"] == ["8000:8000"]
    assert "--port" in services["collector"]["command"]
    assert services["collector"]["command"][services["collector"]["command"].index("--port") + 1] == "8000"
    dashboard = build_parser().parse_args(services["dashboard"]["command"][1:])
    assert published["dashboard"] == ["8501:8501"] and dashboard.port == 8501 and dashboard.host == "0.0.0.0"
    assert services["collector"]["environment"]["MODELWATCH_CONFIG"] == "/etc/modelwatch/monitors.yaml"
    assert published["prometheus"] == ["9090:9090"] and published["alertmanager"] == ["9093:9093"]
    assert not published["timescaledb"], "the database is reached on the compose network only"


def test_gpu_reservation_and_gpu_extra_for_the_shadow_runner(services: dict[str, Any]) -> None:
    runner = services["shadow-runner"]
    (device,) = runner["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"] and device["count"] == 1
    assert runner["build"]["args"]["EXTRA"] == "gpu" and runner["image"] != services["collector"]["image"]
    assert services["collector"]["build"]["args"]["EXTRA"] == "cpu"
    extras = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert {"cpu", "gpu"} <= set(extras)
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert re.search(r"^ARG EXTRA=cpu$", dockerfile, re.M) and 'pip install ".[${EXTRA}]"' in dockerfile


def test_dockerfile_copies_every_package_pyproject_installs() -> None:
    includes = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    for package in (p.rstrip("*") for p in includes):
        assert re.search(rf"^COPY {package} \./{package}$", dockerfile, re.M), package


def test_volumes_mount_existing_files_and_share_the_rules(services: dict[str, Any], compose: dict[str, Any]) -> None:
    named = set(compose["volumes"])
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source, target = _interpolate(volume).split(":")[:2]
            if source.startswith("./"):
                assert (REPO_ROOT / source).is_file(), f"{name}: {source} does not exist"
            else:
                assert source in named, f"{name}: undeclared volume {source}"
    assert "timescale-data:/var/lib/postgresql/data" in services["timescaledb"]["volumes"]
    # The rules job writes where Prometheus reads: the same named volume, and a file its glob matches.
    output = Path(services["rules"]["command"][services["rules"]["command"].index("--output") + 1])
    rules_mount = next(v for v in services["rules"]["volumes"] if v.startswith("prometheus-rules:"))
    assert output.parent == Path(rules_mount.split(":")[1])
    prom_mount = next(v for v in services["prometheus"]["volumes"] if v.startswith("prometheus-rules:"))
    prometheus = yaml.safe_load((REPO_ROOT / "deploy" / "prometheus.yml").read_text())
    (glob,) = prometheus["rule_files"]
    assert Path(glob).parent == Path(prom_mount.split(":")[1]) and Path(output.name).match(Path(glob).name)
    targets = [t for job in prometheus["scrape_configs"] if job["job_name"] == "modelwatch-collector"
               for t in job["static_configs"][0]["targets"]]
    assert targets == ["collector:8000"]
    assert prometheus["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]


def test_configuration_is_environment_variables_the_settings_understand(services: dict[str, Any],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    fields = {f"MODELWATCH_{name.upper()}" for name in Settings.model_fields}
    for name in MODELWATCH_SERVICES:
        env = services[name]["environment"]
        for variable in env:
            assert variable in fields or variable in RECEIVER_SECRETS, f"{name}: {variable} is read by nothing"
        # With every ${...} at its default, the settings load and point at the compose database.
        for variable, value in env.items():
            monkeypatch.setenv(variable, _interpolate(str(value)))
        settings = Settings()
        assert settings.database_url.startswith("postgresql://modelwatch:") and "@timescaledb:5432/" in settings.database_url
        assert str(settings.config) == "/etc/modelwatch/monitors.yaml"


def test_rules_export_passes_promtool_with_the_compose_prometheus_config(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        unavailable("promtool not installed (Debian's prometheus package)")
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    export = subprocess.run([sys.executable, "-m", "modelwatch.cli", "rules", "export", "--output",
                             str(rules_dir / "modelwatch.yml")], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert export.returncode == 0, export.stderr
    config = (REPO_ROOT / "deploy" / "prometheus.yml").read_text().replace("/etc/prometheus/rules", str(rules_dir))
    (tmp_path / "prometheus.yml").write_text(config)
    check = subprocess.run([promtool, "check", "config", str(tmp_path / "prometheus.yml")], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "1 rule files found" in check.stdout


def test_alertmanager_config_passes_amtool() -> None:
    amtool = shutil.which("amtool")
    if amtool is None:
        unavailable("amtool not installed (Debian's prometheus-alertmanager package)")
    check = subprocess.run([amtool, "check-config", str(REPO_ROOT / "deploy" / "alertmanager.yml")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
