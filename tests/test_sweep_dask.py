"""The Dask backend on a real scheduler and workers (loopback) gives the local results."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import SMOKE, abm_cli, smoke_sweep, sweep_results

pytest.importorskip("distributed")

DASK = str(Path(sys.executable).with_name("dask"))


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def cluster(tmp_path):
    """`dask scheduler` and `dask worker` processes on 127.0.0.1; yields the address."""
    info = tmp_path / "scheduler.json"
    common = {"cwd": tmp_path, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL,
              "start_new_session": True}
    scheduler = subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", str(info)], **common)
    procs = [scheduler]
    try:
        deadline = time.monotonic() + 120
        while not info.exists():
            assert scheduler.poll() is None and time.monotonic() < deadline, "no scheduler"
            time.sleep(0.1)
        procs.append(subprocess.Popen(
            [DASK, "worker", "--scheduler-file", str(info), "--nworkers", "2", "--nthreads",
             "1", "--host", "127.0.0.1", "--no-dashboard"], **common))
        address = json.loads(info.read_text())["address"]
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for proc in reversed(procs):
            _stop(proc)


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    out = tmp_path_factory.mktemp("local") / "smoke"
    smoke_sweep(out, "--workers", "1")
    return out


def test_dask_scheduler_gives_the_local_results(cluster, local, tmp_path):
    remote = tmp_path / "dask"
    done = smoke_sweep(remote, "--backend", "dask", "--scheduler", cluster)
    assert f"Dask scheduler {cluster}" in done.stdout
    pd.testing.assert_frame_equal(sweep_results(remote), sweep_results(local))


def test_dask_without_address_starts_a_local_cluster(local, tmp_path):
    remote = tmp_path / "dask"
    done = smoke_sweep(remote, "--backend", "dask", "--workers", "2")
    assert "local Dask cluster of 2 workers" in done.stdout
    pd.testing.assert_frame_equal(sweep_results(remote), sweep_results(local))


def test_unreachable_scheduler_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setenv("DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT", "3s")
    done = abm_cli("sweep", str(SMOKE), "--out", str(tmp_path / "x"), "--backend", "dask",
                   "--scheduler", "tcp://127.0.0.1:9")
    assert done.returncode == 2
    assert "--scheduler tcp://127.0.0.1:9: cannot connect" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "x").exists()


def _http_status(port: int, page: str) -> int | None:
    """The HTTP status of a page on a loopback port; None if it does not speak plain HTTP."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{page}", timeout=5) as reply:
            return reply.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None


def _listening(pids: set[int]) -> list:
    import psutil

    return [c for c in psutil.net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN and c.pid in pids]


def test_local_cluster_listens_on_loopback_only_and_speaks_tls():
    import psutil
    from distributed import Client
    from distributed.security import Security

    from abm.experiment.backends import local_cluster

    cluster = local_cluster(2)
    try:
        client = Client(cluster, security=cluster.security)
        info = client.scheduler_info()
        addresses = [cluster.scheduler_address, *info["workers"],
                     *(w["nanny"] for w in info["workers"].values())]
        assert len(addresses) == 5
        assert all(a.startswith("tls://127.0.0.1:") for a in addresses), addresses
        me = psutil.Process()
        pids = {me.pid, *(p.pid for p in me.children(recursive=True))}
        sockets = _listening(pids)
        assert len(sockets) >= 5  # scheduler, two nannies, two workers; no dashboard
        assert {c.laddr.ip for c in sockets} == {"127.0.0.1"}, sockets
        for socket in sockets:  # Dask's plain HTTP servers answer nothing (no dashboard)
            for page in ("/info/main/workers.html", "/json/identity.json", "/metrics",
                         "/health"):
                assert _http_status(socket.laddr.port, page) in (None, 404), (socket, page)
        port = cluster.scheduler_address.rsplit(":", 1)[1]
        # Without the cluster's certificate nobody gets in: not in plain TCP, not with TLS.
        for address, security in ((f"tcp://127.0.0.1:{port}", None),
                                  (cluster.scheduler_address, Security.temporary())):
            with pytest.raises((OSError, TimeoutError)):
                Client(address, security=security, timeout="3s")
        client.close()
    finally:
        cluster.close()


def test_ctrl_c_in_a_dask_sweep_reaches_the_programs_own_handler():
    """The quiet handler of a Dask sweep calls the one it stands in for (the `abm` program's,
    which notes that Ctrl-C was pressed), then interrupts."""
    import logging

    from abm.cli import CtrlC
    from abm.experiment.backends import _interrupt_quietly

    pressed = CtrlC.pressed
    try:
        with pytest.raises(KeyboardInterrupt):
            _interrupt_quietly(CtrlC.note, signal.SIGINT, None)
        assert CtrlC.pressed
        with pytest.raises(KeyboardInterrupt):  # with no handler of ours before it
            _interrupt_quietly(signal.SIG_DFL, signal.SIGINT, None)
    finally:
        CtrlC.pressed = pressed
        logging.disable(logging.NOTSET)
