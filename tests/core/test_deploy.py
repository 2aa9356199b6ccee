"""deploy/: every compose and Kubernetes file parses, and says what the code does: the commands exist, the ``KEFU_*``
names are settings, the probes are ``/healthz`` and ``/readyz``, the autoscaler's metric is the one workers export,
the Dockerfiles copy every package. ``docker compose config`` (or Debian's ``docker-compose``, which CI installs)
accepts the compose file and refuses a broken copy."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from bot.config import Settings
from tests.conftest import require_tool

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
STREAM_LAG = "kefu_stream_lag"
"""The stream-lag gauge the workers export (issue 22); the HPA scales on it."""
COMMANDS = {"front": ["kefu", "run", "--role", "front"], "worker": ["kefu", "worker"], "single": ["kefu", "run"]}
PACKAGES = ("bot", "adapters", "speech", "vision", "kb")


def is_setting(name: str) -> bool:
    """Whether ``KEFU_A__B`` names one setting of ``Settings``: a leaf, reached through its sections."""
    if not name.startswith("KEFU_"):
        return False
    model: type[BaseModel] | None = Settings
    for part in name.removeprefix("KEFU_").lower().split("__"):
        field = model.model_fields.get(part) if model is not None else None
        if field is None:
            return False
        nested = field.annotation
        model = nested if isinstance(nested, type) and issubclass(nested, BaseModel) else None
    return model is None


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))


def manifests() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(DEPLOY.glob("k8s/**/*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            assert isinstance(document, dict) and {"apiVersion", "kind", "metadata"} <= document.keys(), path
            yield path, document


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in manifests() if doc["kind"] == kind}


def test_the_settings_check_knows_good_names_from_bad() -> None:
    assert is_setting("KEFU_STORE__URL") and is_setting("KEFU_DEVICE") and is_setting("KEFU_SPEECH__DEVICE")
    assert not is_setting("KEFU_STORE__URLS") and not is_setting("KEFU_STORE") and not is_setting("STORE__URL")
    assert not is_setting("KEFU_SPEECH__DEVICE__X") and not is_setting("KEFU_NOPE")


def test_compose_runs_a_front_workers_and_redis_with_aof() -> None:
    services = compose()["services"]
    assert {"redis", "front", "worker", "worker-gpu", "llm"} <= services.keys()
    assert services["front"]["command"] == COMMANDS["front"]
    assert services["worker"]["command"] == services["worker-gpu"]["command"] == COMMANDS["worker"]
    redis = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in redis and services["redis"]["volumes"]
    assert services["llm"]["profiles"] == ["llm"] and services["worker-gpu"]["profiles"] == ["gpu"]
    for name in ("front", "worker", "worker-gpu"):
        service = services[name]
        environment = service["environment"]
        assert environment["KEFU_STORE__URL"].startswith("redis://redis:6379/"), name
        bad = [key for key in environment if not is_setting(key)]
        assert not bad, f"{name}: not kefu settings: {bad}"
        assert "/readyz" in " ".join(service["healthcheck"]["test"]), name
        assert (DEPLOY.parent / service["build"]["dockerfile"]).is_file(), name
        assert service["depends_on"]["redis"] == {"condition": "service_healthy"}, name
    assert services["worker-gpu"]["environment"]["KEFU_SPEECH__DEVICE"] == "cuda"


def test_kubernetes_front_workers_redis_and_the_autoscaler_fit_together() -> None:
    deployments, services = by_kind("Deployment"), by_kind("Service")
    assert {"kefu-front", "kefu-worker", "kefu-worker-gpu", "kefu"} <= deployments.keys()
    for name, deployment in deployments.items():
        template = deployment["spec"]["template"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= template["metadata"]["labels"].items(), name
        assert template["metadata"]["annotations"]["prometheus.io/path"] == "/metrics", name
        [container] = template["spec"]["containers"]
        role = {"kefu-front": "front", "kefu": "single"}.get(name, "worker")
        assert container["command"] == COMMANDS[role], name
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz", name
        assert {port["name"] for port in container["ports"]} == {"http"}, name
        bad = [item["name"] for item in container.get("env", []) if not is_setting(item["name"])]
        assert not bad, f"{name}: not kefu settings: {bad}"
    config = by_kind("ConfigMap")["kefu-config"]["data"]
    assert not [key for key in config if not is_setting(key)]
    assert config["KEFU_STORE__URL"].startswith("redis://kefu-redis:6379/")
    assert "kefu-redis" in services and "kefu-front" in services
    assert services["kefu-front"]["spec"]["selector"] == deployments["kefu-front"]["spec"]["selector"]["matchLabels"]
    front = deployments["kefu-front"]["spec"]
    # several fronts share the deliveries under leases (scale.md): two, updated without a moment with none
    assert front["replicas"] >= 2 and front["strategy"]["type"] == "RollingUpdate"
    assert front["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert config["KEFU_TELEGRAM__MODE"] == "webhook", "long polling allows one front per bot token"

    paths = {
        path["path"]: path["backend"]["service"]["name"]
        for rule in by_kind("Ingress")["kefu"]["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert {"/telegram/webhook", "/slack/events"} <= paths.keys() and set(paths.values()) == {"kefu-front"}

    [hpa] = by_kind("HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"]["name"] == "kefu-worker"
    [metric] = hpa["spec"]["metrics"]
    assert metric["type"] == "External" and metric["external"]["metric"]["name"] == STREAM_LAG
    rules = yaml.safe_load(by_kind("ConfigMap")["prometheus-adapter"]["data"]["config.yaml"])
    [rule] = rules["externalRules"]
    assert rule["name"]["as"] == STREAM_LAG and STREAM_LAG in rule["seriesQuery"]

    redis = by_kind("StatefulSet")["kefu-redis"]
    conf = by_kind("ConfigMap")["kefu-redis-config"]["data"]["redis.conf"]
    assert "appendonly yes" in conf and redis["spec"]["volumeClaimTemplates"]
    [gpu] = deployments["kefu-worker-gpu"]["spec"]["template"]["spec"]["containers"]
    assert gpu["image"] == "kefu:cuda" and gpu["resources"]["limits"]["nvidia.com/gpu"] == 1


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "Dockerfile.cuda"])
def test_the_dockerfiles_copy_every_package_and_check_liveness(dockerfile: str) -> None:
    text = (DEPLOY / dockerfile).read_text(encoding="utf-8")
    copied = set(re.findall(r"^COPY (\S+) \1$", text, flags=re.MULTILINE))
    assert copied == set(PACKAGES), copied
    for package in PACKAGES:
        assert (DEPLOY.parent / package / "__init__.py").is_file(), package
    assert "pip install '.[all]'" in text and "EXPOSE 8080" in text and "/healthz" in text
    if dockerfile.endswith("cuda"):
        assert re.search(r"^FROM nvidia/cuda:12\.\S+-cudnn-runtime", text, flags=re.MULTILINE)
        assert "download.pytorch.org/whl/cu12" in text and "KEFU_SPEECH__DEVICE=cuda" in text


def compose_command() -> list[str]:
    """Docker's compose plugin where installed, else Debian's ``docker-compose`` (1.29, which validates against the
    Compose specification too and needs no Docker daemon for ``config``; .ci/run installs it)."""
    docker = shutil.which("docker")
    if docker is not None and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    return [require_tool("docker-compose")]


def compose_config(path: Path) -> subprocess.CompletedProcess[str]:
    command = [*compose_command(), "-f", str(path), "--profile", "gpu", "--profile", "llm", "config"]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_docker_compose_accepts_the_file() -> None:
    result = compose_config(DEPLOY / "docker-compose.yml")
    assert result.returncode == 0, result.stderr
    assert {"front", "worker", "redis"} <= set(yaml.safe_load(result.stdout)["services"])


def test_docker_compose_refuses_a_misspelt_option(tmp_path: Path) -> None:
    """The same check fails on a mistake (a misspelt healthcheck), so its pass above means something."""
    broken = tmp_path / "docker-compose.yml"
    text = (DEPLOY / "docker-compose.yml").read_text(encoding="utf-8")
    assert "healthcheck:" in text
    broken.write_text(text.replace("healthcheck:", "heathcheck:", 1), encoding="utf-8")
    result = compose_config(broken)
    assert result.returncode != 0 and "heathcheck" in result.stdout + result.stderr
