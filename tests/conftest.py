"""Shared fixtures: real databases, started by the tests themselves.

PostgreSQL: a throwaway cluster from the installed binaries (initdb / pg_ctl, as the ``postgres``
user when run as root) on a random loopback port, unless MODELWATCH_TEST_DATABASE_URL points at a
server to use instead. TimescaleDB: PGlite (PostgreSQL 17 + TimescaleDB in WASM) served over the
wire by pglite-socket, from the npm packages pinned in package-lock.json.

Missing binaries skip the tests locally, but fail them loudly under CI=true: the postgres and
timescale groups must run in CI, never be skipped. Tests using these servers are marked
`postgres` / `timescale` automatically.

Fixtures:
    postgres_server  (session)  PostgresServer with .url, .stop(), .start(), .restart()
    postgres_url     (session)  SQLAlchemy URL of the server's ``postgres`` database
    pg_template      (session)  name of a database with the schema, copied for each pg_engine
    pg_database_url  (function) URL of a fresh, empty database, dropped after the test
    pg_engine        (function) Engine on a fresh database with the schema created
    sqlite_engine    (function) Engine on a fresh SQLite file with the schema created
    engine           (function) pg_engine or sqlite_engine: store tests run on both dialects
    timescale_server (session)  PGliteServer with .url, .stop()
    timescale_url    (session)  URL of a PGlite + TimescaleDB server
    timescale_engine (function) Engine on it (one connection, no prepared statements), emptied
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from store.bootstrap import create_schema
from store.engine import create_engine

REPO_ROOT = Path(__file__).resolve().parent.parent
TEST_DATABASE_ENV = "MODELWATCH_TEST_DATABASE_URL"
CLUSTER_PREFIX = "modelwatch-pg-"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that reaches a database server, so `-m "not postgres"` selects fast ones."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "postgres_server" in names:
            item.add_marker(pytest.mark.postgres)
        if "timescale_server" in names:
            item.add_marker(pytest.mark.timescale)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """Skip locally; in CI a missing database is a broken pipeline, not a reason to skip."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: the postgres and timescale groups must run)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing accepts connections on {host}:{port} after {timeout}s")
            time.sleep(0.05)


# --------------------------------------------------------------------------------------------
# PostgreSQL


def find_postgres_bindir() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian layout), or wherever initdb is."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parent.parent.name))
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresServer:
    """A throwaway PostgreSQL cluster that tests can stop and start (fault tests do).

    The port stays the same across stop/start, so engines created before a stop reconnect once
    the server is back.
    """

    def __init__(self, bindir: Path, root: Path, port: int) -> None:
        self.bindir = bindir
        self.root = root
        self.datadir = root / "data"
        self.logfile = root / "postgres.log"
        self.port = port
        self.host = "127.0.0.1"
        self._as_postgres = os.geteuid() == 0
        self._initdb()

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the ``postgres`` database (trust auth: no password)."""
        return f"postgresql+psycopg://postgres@{self.host}:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self._as_postgres:
            # initdb and postgres refuse to run as root.
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            log = self.logfile.read_text(errors="replace")[-3000:] if self.logfile.exists() else ""
            raise RuntimeError(
                f"{' '.join(cmd)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}\n{log}"
            )
        return result

    def _initdb(self) -> None:
        if self._as_postgres:
            postgres = pwd.getpwnam("postgres")
            os.chown(self.root, postgres.pw_uid, postgres.pw_gid)
        self._run("initdb", "-D", str(self.datadir), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.root}'",
            # Throwaway data: durability settings off for speed.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "shared_buffers": "64MB",
            "TimeZone": "'UTC'",
        }
        with open(self.datadir / "postgresql.conf", "a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def start(self) -> None:
        self._run("pg_ctl", "start", "-D", str(self.datadir), "-l", str(self.logfile),
                  "-o", f"-p {self.port}", "-w", "-t", "60")
        wait_for_port(self.host, self.port, timeout=30)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; ``mode="immediate"`` is a crash (no checkpoint, clients cut off)."""
        self._run("pg_ctl", "stop", "-D", str(self.datadir), "-m", mode, "-w", "-t", "60")

    def restart(self) -> None:
        self.stop()
        self.start()

    def is_running(self) -> bool:
        return self._run("pg_ctl", "status", "-D", str(self.datadir), check=False).returncode == 0

    def destroy(self) -> None:
        if self.is_running():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class ExternalPostgres:
    """MODELWATCH_TEST_DATABASE_URL: a server the tests use but cannot stop or start."""

    def __init__(self, url: str) -> None:
        self.url = url

    def stop(self, mode: str = "fast") -> None:
        pytest.skip(f"{TEST_DATABASE_ENV} is set: cannot stop an external server")

    start = restart = stop

    def is_running(self) -> bool:
        return True


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer | ExternalPostgres]:
    external = os.environ.get(TEST_DATABASE_ENV)
    if external:
        yield ExternalPostgres(external)
        return
    bindir = find_postgres_bindir()
    if bindir is None:
        unavailable("PostgreSQL binaries (initdb, pg_ctl) not found; install Debian's postgresql")
    reap_orphaned_clusters(bindir)
    root = Path(tempfile.mkdtemp(prefix=CLUSTER_PREFIX))
    (root / "owner.pid").write_text(str(os.getpid()))
    server = PostgresServer(bindir, root, free_port())
    try:
        for attempt in range(3):
            try:
                server.start()
                break
            except RuntimeError:
                if attempt == 2:
                    raise
                server.port = free_port()  # taken between choosing and binding it
        yield server
    finally:
        server.destroy()


def reap_orphaned_clusters(bindir: Path) -> None:
    """Stop and delete clusters left by test runs that were killed before their cleanup ran."""
    for root in Path(tempfile.gettempdir()).glob(f"{CLUSTER_PREFIX}*"):
        try:
            owner = int((root / "owner.pid").read_text())
        except (OSError, ValueError):
            continue
        if _pid_alive(owner):
            continue
        if (root / "data").is_dir():
            server = PostgresServer.__new__(PostgresServer)
            server.bindir, server.root, server.datadir = bindir, root, root / "data"
            server.logfile, server._as_postgres = root / "postgres.log", os.geteuid() == 0
            server.destroy()
        shutil.rmtree(root, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer | ExternalPostgres) -> str:
    return postgres_server.url


def _admin(url: str, statement: str) -> None:
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(statement)
    finally:
        admin.dispose()


def _database_url(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template(postgres_url: str) -> Iterator[str]:
    """A database with the schema created once; each test's database is copied from it."""
    name = f"modelwatch_template_{uuid.uuid4().hex[:8]}"
    _admin(postgres_url, f'CREATE DATABASE "{name}"')
    engine = create_engine(_database_url(postgres_url, name))
    try:
        create_schema(engine)
    finally:
        engine.dispose()
    yield name
    _admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_database_url(postgres_url: str) -> Iterator[str]:
    """A fresh, empty database for one test (migrations start from here)."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    _admin(postgres_url, f'CREATE DATABASE "{name}"')
    yield _database_url(postgres_url, name)
    _admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_engine(postgres_url: str, pg_template: str) -> Iterator[Engine]:
    """An engine on a fresh database of its own, schema created, dropped after the test."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    _admin(postgres_url, f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    engine = create_engine(_database_url(postgres_url, name))
    yield engine
    engine.dispose()
    _admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'modelwatch.db'}")
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Engine:
    """The store under test, once per dialect."""
    return request.getfixturevalue(f"{'pg' if request.param == 'postgres' else 'sqlite'}_engine")


# --------------------------------------------------------------------------------------------
# TimescaleDB (PGlite over pglite-socket)

PGLITE_LAUNCHER = REPO_ROOT / "tests" / "timescale" / "pglite_server.mjs"


class PGliteServer:
    """PostgreSQL 17 + TimescaleDB in WASM, in a node process, on a random loopback port."""

    def __init__(self, node: str) -> None:
        self.process = subprocess.Popen(
            [node, str(PGLITE_LAUNCHER), "--port", "0", "--host", "127.0.0.1"],
            cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line.startswith("READY "):
            self.stop()
            stderr = self.process.stderr.read() if self.process.stderr else ""
            raise RuntimeError(f"pglite server did not start: {line!r}\n{stderr[-3000:]}")
        _, self.host, port = line.split()
        self.port = int(port)
        wait_for_port(self.host, self.port, timeout=30)

    @property
    def url(self) -> str:
        # pglite-socket answers password auth with any password; it has no TLS.
        return f"postgresql+psycopg://postgres:postgres@{self.host}:{self.port}/postgres?sslmode=disable"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
def timescale_server() -> Iterator[PGliteServer]:
    node = shutil.which("node")
    if node is None:
        unavailable("node not found: the timescale group needs node >= 20")
    if not (REPO_ROOT / "node_modules" / "@unni-craftsman" / "pglite").is_dir():
        unavailable("node_modules missing: run `npm ci` at the repository root")
    server = PGliteServer(node)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def timescale_url(timescale_server: PGliteServer) -> str:
    return timescale_server.url


def create_pglite_engine(url: str) -> Engine:
    """PGlite serves one connection at a time and has no named prepared statements."""
    return create_engine(url, pool_size=1, max_overflow=0, connect_args={"prepare_threshold": None})


def empty_public_schema(conn: sa.Connection) -> None:
    """Drop every table and view of ours, keeping the extension: PGlite is one backend that has
    loaded timescaledb, and it cannot be created again in that backend once dropped."""
    if conn.exec_driver_sql("SELECT to_regclass('timescaledb_information.continuous_aggregates')").scalar():
        for (view,) in conn.exec_driver_sql(
                "SELECT view_name FROM timescaledb_information.continuous_aggregates"
                " WHERE view_schema = 'public'").all():
            conn.exec_driver_sql(f'DROP MATERIALIZED VIEW IF EXISTS public."{view}" CASCADE')
    relations = conn.exec_driver_sql(
        "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')"
        " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')").all()
    kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW"}
    for name, kind in sorted(relations, key=lambda r: r[1] == "r"):
        conn.exec_driver_sql(f'DROP {kinds[kind]} IF EXISTS public."{name}" CASCADE')


@pytest.fixture
def timescale_engine(timescale_url: str) -> Iterator[Engine]:
    """An engine on the shared PGlite server, emptied of the previous test's tables first."""
    engine = create_pglite_engine(timescale_url)
    with engine.begin() as conn:
        empty_public_schema(conn)
    yield engine
    engine.dispose()
