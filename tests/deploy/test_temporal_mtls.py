"""Mutual TLS to Temporal end to end (issue 21, item 3): Debian's HAProxy terminates TLS in
front of a dev server this test starts and admits only clients whose certificate its CA signed.

Why HAProxy and not stunnel: Temporal's client (tonic) requires HTTP/2 to be negotiated by ALPN
and refuses a server that does not (``H2NotNegotiated``); Debian 12's stunnel 5.68 cannot offer
ALPN, HAProxy can (``alpn h2``), as a real cluster's TLS terminator (or Temporal's own) does.
``barnflow setup`` gets through with the configured client certificate; a certificate from
another CA, no client certificate at all, or a server the configured CA did not sign each stop
it with one line naming the connection, not a traceback and not a minute of retries."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.temporal.devserver import DevServer, free_port, stop_process
from tests.deploy.certs import CA, Issued
from tests.deploy.conftest import barnflow, production_env

pytestmark = pytest.mark.timeout(240)
SERVER_NAME = "temporal.kommun.test"


def _haproxy() -> str:
    found = shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy",) if Path(p).exists()), None
    )
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("haproxy is not installed (.ci/run installs Debian's haproxy)")
        pytest.skip("haproxy is not installed (apt-get install haproxy)")
    return found


@pytest.fixture
def mtls_proxy(tmp_path: Path, dev_temporal: DevServer) -> Iterator[tuple[str, CA]]:
    """HAProxy on a free port: TLS (ALPN h2) with a server certificate for ``SERVER_NAME``,
    client certificates required and verified against ``ca``; TCP to the dev server behind it."""
    binary = _haproxy()
    ca = CA(tmp_path / "pki", "kommun")
    server = ca.issue("temporal", server=True, dns=(SERVER_NAME,))
    bundle = tmp_path / "pki" / "server-bundle.pem"
    bundle.write_bytes(server.cert.read_bytes() + server.key.read_bytes())
    port = free_port()
    _host, backend = dev_temporal.address.rsplit(":", 1)
    conf = tmp_path / "haproxy.cfg"
    conf.write_text(
        "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n"
        "  timeout server 60s\n"
        f"frontend temporal\n  bind 127.0.0.1:{port} ssl crt {bundle} ca-file {ca.pem}"
        " verify required alpn h2\n  default_backend dev\n"
        f"backend dev\n  server dev 127.0.0.1:{backend}\n"
    )
    log = open(tmp_path / "haproxy.log", "ab")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([binary, "-db", "-f", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None, (tmp_path / "haproxy.log").read_text()
            assert time.monotonic() < deadline, "haproxy did not listen"
            time.sleep(0.1)
        yield f"127.0.0.1:{port}", ca
    finally:
        stop_process(proc)
        log.close()


def _tls_env(env: dict[str, str], ca: Path, client: Issued | None) -> dict[str, str]:
    env = dict(env, BARNFLOW_TEMPORAL_TLS_CA=str(ca), BARNFLOW_TEMPORAL_TLS_SERVER_NAME=SERVER_NAME)
    if client is not None:
        env |= {
            "BARNFLOW_TEMPORAL_TLS_CERT": str(client.cert),
            "BARNFLOW_TEMPORAL_TLS_KEY": str(client.key),
        }
    return env


def _refusal(env: dict[str, str]) -> str:
    started = time.monotonic()
    run = barnflow("setup", env=env)
    took = time.monotonic() - started
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert took < 20, f"a TLS failure took {took:.1f}s (retried as if the server were starting)"
    return lines[0]


def test_setup_through_mtls_and_one_line_for_each_wrong_certificate(
    tmp_path: Path, pg_url: str, fresh_schema: str, mtls_proxy: tuple[str, CA]
) -> None:
    address, ca = mtls_proxy
    base = production_env(pg_url, fresh_schema, address, "default")
    worker_cert = ca.issue("barnflow-worker", server=False)

    # (the dev server's namespace keeps closed workflows one day)
    ok = barnflow(
        "setup", "--apply", "--min-retention-days", "1", env=_tls_env(base, ca.pem, worker_cert)
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"Temporal {address} (mTLS)" in ok.stdout
    assert "ok   search attributes all 7 on namespace 'default'" in ok.stdout

    stranger = CA(tmp_path / "other", "stranger")
    line = _refusal(_tls_env(base, ca.pem, stranger.issue("intruder", server=False)))
    assert line.startswith(f"barnflow: Temporal at {address}: the mTLS connection failed"), line
    assert "refused the client certificate" in line and "not signed by a CA" in line, line

    line = _refusal(_tls_env(base, ca.pem, None))  # TLS without the client certificate
    assert f"Temporal at {address}: the TLS connection failed" in line, line
    assert "requires a client certificate" in line, line

    line = _refusal(_tls_env(base, stranger.pem, worker_cert))  # a server we do not trust
    assert "not signed by BARNFLOW_TEMPORAL_TLS_CA" in line, line

    wrong_name = _tls_env(base, ca.pem, worker_cert) | {
        "BARNFLOW_TEMPORAL_TLS_SERVER_NAME": "temporal.elsewhere.test"
    }
    assert "BARNFLOW_TEMPORAL_TLS_SERVER_NAME" in _refusal(wrong_name)
