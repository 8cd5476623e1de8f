"""Ctrl-C, as a terminal sends it to the whole foreground process group: at any moment of
start-up (the parent importing, worker processes starting) and in the middle of parallel work,
it ends the command at once with status 130 and one line, never a traceback.

Under `python -m`, CPython 3.12 ends a process by SIGINT itself when a KeyboardInterrupt left
code run from a string (the `exec` of generated code during an import, say), even though
`abm` caught it: the shell then reports status 130 as well, so both count as 130 here.
"""

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, SMOKE

INTERRUPTED = (130, -signal.SIGINT)  # exit status 130, or ended by SIGINT (the shell's 130)


def _as_foreground_job() -> None:
    """A test suite started as a background job passes SIGINT on ignored; a terminal's
    foreground job has it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(*args: str, cwd=ROOT) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "abm", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=_as_foreground_job)


def ctrl_c(proc: subprocess.Popen, timeout: float) -> tuple[str, float]:
    """Send SIGINT to the group; the command's stderr and how long it took to end."""
    os.killpg(proc.pid, signal.SIGINT)
    sent = time.monotonic()
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"still running {timeout} s after Ctrl-C")
    took = time.monotonic() - sent
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # its worker processes end with it
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("worker processes outlived the interrupted command")
    return err, took


@pytest.mark.parametrize("delay", [0.3, 0.6, 0.9, 1.3, 1.8, 2.5, 3.5])
def test_ctrl_c_during_start_up_is_one_line(tmp_path, delay):
    proc = start("sweep", str(SMOKE), "--out", str(tmp_path / "s"), "--workers", "2")
    time.sleep(delay)
    err, _ = ctrl_c(proc, timeout=60)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    if proc.returncode != 0:  # (a sweep that finished before the signal is fine too)
        assert proc.returncode in INTERRUPTED, err
        assert err.strip().splitlines() == ["abm: interrupted"], err


def test_ctrl_c_stops_parallel_work_at_once(tmp_path):
    """An evaluation of long runs (minutes of work) ends within seconds of Ctrl-C, rather than
    after its worker processes finish everything they were given."""
    proc = start("evaluate", "teaching-town", "--replicates", "2", "--set", "run.days=3650",
                 "--workers", "2", "--out", str(tmp_path / "e"), cwd=tmp_path)
    time.sleep(8)  # the runs are under way in both workers
    assert proc.poll() is None, proc.communicate()
    err, took = ctrl_c(proc, timeout=45)
    assert proc.returncode in INTERRUPTED, err
    assert err.strip().splitlines()[-1] == "abm: interrupted" and "Traceback" not in err, err
    assert not (tmp_path / "e").exists() and not list(tmp_path.glob(".*"))
    assert took < 45


@pytest.mark.parametrize("after", [1, 3])
def test_ctrl_c_mid_sweep_on_a_local_dask_cluster(tmp_path, after):
    """The cluster's processes leave Ctrl-C to the sweep, and what Dask would log about the
    work it drops stays quiet: one line, and the finished runs are kept."""
    pytest.importorskip("distributed")
    out = tmp_path / "s"
    proc = start("sweep", str(SMOKE), "--out", str(out), "--backend", "dask", "--workers", "2")
    while len(list(out.glob("runs/p*.json"))) < after:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    err, _ = ctrl_c(proc, timeout=60)
    assert proc.returncode in INTERRUPTED, err
    assert err.strip().splitlines() == ["abm: interrupted"], err
    assert after <= len(list(out.glob("runs/p*.json"))) < 12


def test_ctrl_c_once_the_work_is_done_changes_nothing():
    """While the interpreter shuts down Python no longer turns Ctrl-C into KeyboardInterrupt,
    so a Ctrl-C there would kill a command that finished, silently: the program ignores it."""
    code = ("import os, signal, sys\n"
            "from abm.cli import command\n"
            "sys.argv = ['abm', 'scenarios']\n"
            "done = command()\n"
            "os.kill(os.getpid(), signal.SIGINT)\n"
            "print('still here', done)\n")
    ran = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, preexec_fn=_as_foreground_job)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip().endswith("still here 0") and ran.stderr == ""


LIBRARY_SWALLOWS_CTRL_C = """\
import os, signal, sys
import abm.cli as cli

def build_parser(argv):
    try:  # as pydantic-core does while it builds a validator: Ctrl-C becomes its own error
        os.kill(os.getpid(), signal.SIGINT)
        signal.pause()
    except KeyboardInterrupt as exc:
        raise RuntimeError(f"validator not built: {exc!r}") from None

cli.build_parser = build_parser
sys.argv = ['abm', 'run']
raise SystemExit(cli.command())
"""


def test_ctrl_c_that_a_library_turns_into_its_own_error_is_one_line():
    """Compiled code may catch the KeyboardInterrupt and raise another error in its place;
    after a Ctrl-C, that error is the interruption too."""
    ran = subprocess.run([sys.executable, "-c", LIBRARY_SWALLOWS_CTRL_C],
                         cwd=ROOT, capture_output=True, text=True, timeout=120,
                         preexec_fn=_as_foreground_job)
    assert ran.returncode == 130, ran.stderr
    assert ran.stderr.strip().splitlines() == ["abm: interrupted"], ran.stderr


def test_an_error_without_ctrl_c_is_not_called_an_interruption():
    code = ("import sys\nimport abm.cli as cli\n"
            "def build_parser(argv):\n    raise RuntimeError('a real failure')\n"
            "cli.build_parser = build_parser\nsys.argv = ['abm', 'run']\n"
            "raise SystemExit(cli.command())\n")
    ran = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, preexec_fn=_as_foreground_job)
    assert ran.returncode == 1 and "RuntimeError: a real failure" in ran.stderr, ran.stderr
    assert "interrupted" not in ran.stderr
