"""The image and the compose stack, read from their files (no Docker engine is needed): pinned
dependencies, a health check per long-running service, no password written down, the proxy
the only way in, and a build context of what the image needs only."""

from __future__ import annotations

import configparser
import re
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from service.config import Settings
from tests.factories import REPO

yaml = pytest.importorskip("yaml")

REQUIRED_VARIABLE = re.compile(r"\$\{(\w+):\?[^}]+\}")


def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def runtime_requirements() -> list[Requirement]:
    setup = configparser.ConfigParser()
    setup.read(REPO / "setup.cfg")
    lines = setup["options"]["install_requires"].splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]


def pins() -> dict[str, str]:
    found = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        assert re.fullmatch(r"[\w.-]+==[\w.!+-]+", line), f"not an exact pin: {line!r}"
        name, _, version = line.partition("==")
        found[canonicalize_name(name)] = version
    return found


def test_the_image_pins_every_runtime_requirement_within_its_range():
    """A requirement added or re-ranged in setup.cfg without `make constraints` fails here."""
    pinned = pins()
    for requirement in runtime_requirements():
        version = pinned.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name} is not in constraints.txt"
        assert requirement.specifier.contains(version, prereleases=True), (
            f"constraints.txt pins {requirement.name}=={version}, outside {requirement}"
        )
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "pip install --requirement constraints.txt" in dockerfile
    assert "pip install --constraint constraints.txt ." in dockerfile


def test_each_long_running_service_has_its_own_health_check_and_the_image_none():
    instructions = [
        line.split()[0]
        for line in (REPO / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.startswith(("#", " "))
    ]
    assert "HEALTHCHECK" not in instructions, "every role would inherit it"
    services = compose()["services"]
    for name, service in services.items():
        if service.get("restart") == "no":
            assert "healthcheck" not in service, f"{name} runs once and exits"
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
        if service.get("image") == "factcheck:latest":
            # The role's own check: `factcheck healthcheck api|worker|beat`.
            role = service["command"][0]
            assert service["healthcheck"]["test"][1:4] == ["factcheck", "healthcheck", role]
    assert "readyz" not in str(services["api"]["healthcheck"])  # `healthcheck api` asks it
    assert services["migrate"]["command"] == ["migrate"]


def test_the_service_connects_as_its_role_and_no_password_is_written_down():
    services = compose()["services"]
    for name, service in services.items():
        for variable, value in (service.get("environment") or {}).items():
            secret = "PASSWORD" in variable or re.search(r"://[^/@]+:[^/@]+@", str(value))
            if secret:
                assert REQUIRED_VARIABLE.search(str(value)), f"{name}: {variable} is written down"
    app_services = [s for s in services.values() if s.get("image") == "factcheck:latest"]
    url_user = re.compile(r"postgresql://(\w+):")
    users = {
        service["command"][0]: url_user.match(service["environment"]["DATABASE_URL"])[1]
        for service in app_services
    }
    assert users == {
        "migrate": "factcheck", "api": "factcheck_app", "worker": "factcheck_app",
        "beat": "factcheck_app",
    }  # fmt: skip
    assert services["migrate"]["environment"]["FACTCHECK_DB_APP_ROLE"] == "factcheck_app"
    postgres = services["postgres"]["environment"]
    assert postgres["POSTGRES_USER"] == "factcheck"
    owner_password = REQUIRED_VARIABLE.search(postgres["POSTGRES_PASSWORD"])[1]
    for service in app_services:
        knows_it = owner_password in str(service["environment"])
        assert knows_it == (service["command"] == ["migrate"]), service["command"]


def test_only_the_proxy_publishes_a_port_and_it_refuses_what_the_api_refuses():
    services = compose()["services"]
    assert {name for name, service in services.items() if service.get("ports")} == {"proxy"}
    proxy, api = services["proxy"], services["api"]
    limit = f"${{FACTCHECK_MAX_REQUEST_BYTES:-{Settings('', '').max_request_bytes}}}"
    assert proxy["environment"]["FACTCHECK_MAX_REQUEST_BYTES"] == limit
    assert api["environment"]["FACTCHECK_MAX_REQUEST_BYTES"] == limit
    assert proxy["environment"]["FACTCHECK_PROXY_UPSTREAM"] == f"api:{api['command'][-1]}"
    assert proxy["environment"]["NGINX_ENVSUBST_FILTER"] == "^FACTCHECK_"
    [template] = proxy["volumes"]
    assert template.startswith("./docker/proxy.conf.template:/etc/nginx/templates/")
    listen = proxy["environment"]["FACTCHECK_PROXY_LISTEN"]
    assert proxy["ports"] == [f"8000:{listen}"]
    assert f"{listen}/healthz" in " ".join(proxy["healthcheck"]["test"])


def test_the_build_context_is_what_the_dockerfile_copies():
    patterns = [
        line
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert patterns[0] == "*", "everything else (.git, .venv, .env, .factcheck, caches) stays out"
    included = {pattern[1:] for pattern in patterns if pattern.startswith("!")}
    copied = set()
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            copied.update(line.split()[1:-1])
    assert copied == included
    assert all(Path(REPO, path).exists() for path in copied)
