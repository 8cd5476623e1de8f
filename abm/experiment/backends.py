"""Where runs execute: local worker processes or a Dask cluster.

A run is a plain task (run id and the resolved settings as JSON-ready data) and its outcome a
plain dict, so both travel between processes and machines. Every run builds its own model from
its own seed, so results do not depend on the backend, the worker count or the order in which
runs finish.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, suppress
from functools import partial
from typing import NamedTuple

from abm.config import ConfigError


class WorkerLostError(RuntimeError):
    """A worker process ended without reporting (the sweep stops; finished runs are kept)."""


class Fork(NamedTuple):
    """A run forked from a task's run (``SafeCityModel.fork``), with its own settings."""

    run_id: str
    config: dict
    measures: tuple = ()


class Task(NamedTuple):
    run_id: str
    config: dict
    measures: tuple = ()  # figures beyond the summary (abm.measures.Measure), by name
    forks: tuple[Fork, ...] = ()  # runs forked from this one on fork_day
    fork_day: float = 0.0
    whole: bool = True  # False: the run only carries its forks, and stops where they start


def _outcome(result, measures) -> dict:
    from abm.experiment.store import Status

    return {"status": Status.OK, "summary": result.summary,
            "measures": {m.name: m.of(result) for m in measures},
            "wall_s": round(result.wall_s, 3)}


def execute(task: Task) -> dict:
    """Run one simulation (and the runs forked from it, their outcomes under ``forks``) and
    compute the measures; an error is caught and returned (with ``input_error`` when it is
    the input's), so a sweep goes on."""
    from abm.config import validate
    from abm.experiment.store import Status
    from abm.simulate import simulate, simulate_forked

    started = time.perf_counter()
    try:
        config = validate(task.config, origin=task.run_id)
        if not task.forks:
            return _outcome(simulate(config), task.measures)
        forks = {f.run_id: validate(f.config, origin=f.run_id) for f in task.forks}
        result, forked = simulate_forked(config, task.fork_day, forks, whole=task.whole)
        done = {f.run_id: _outcome(forked[f.run_id], f.measures) for f in task.forks}
        if not task.whole:
            return {"status": Status.OK, "forks": done, "wall_s": 0.0}
        return {**_outcome(result, task.measures), "forks": done}
    except Exception as exc:  # noqa: BLE001 - recorded as a failed run
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" ({last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
        failed = {"status": Status.FAILED, "error": f"{type(exc).__name__}: {exc}{where}",
                  "wall_s": round(time.perf_counter() - started, 3)}
        return {**failed, "input_error": str(exc)} if isinstance(exc, ConfigError) else failed


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# --- local processes ------------------------------------------------------------------------

@contextmanager
def sigint_held() -> Iterator[None]:
    """Hold Ctrl-C back while worker processes start: a process started now begins with
    SIGINT blocked (so its start-up cannot be interrupted into a traceback) until
    ``_init_worker`` ignores it, and a Ctrl-C pressed meanwhile reaches this process when
    the block ends."""
    held = {signal.SIGINT}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextmanager
def sigint_left_to_us() -> Iterator[None]:
    """Processes started now ignore Ctrl-C for good (they inherit SIGINT ignored, so Python
    in them never turns it into KeyboardInterrupt), for children whose start we cannot hook,
    such as Dask's workers. A Ctrl-C meanwhile waits, held, for this process."""
    with sigint_held():
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


def _watch_parent(parent: int) -> None:
    """End when the process that owns the pool is gone (a worker's parent is the fork
    server, which ends with the owner)."""
    server = os.getppid()
    while os.getppid() == server and _alive(parent):
        time.sleep(0.5)
    os._exit(1)  # the sweep was killed: do not run on as an orphan


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _init_worker(parent: int) -> None:
    """Workers leave Ctrl-C to the parent, and end when the parent process dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # held while it started
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


# What a worker needs imported before its first run: imported once, in the fork server.
PRELOAD = ["abm.experiment.forkserver", "abm.simulate"]


def worker_context():
    """How worker processes start: forked from a fork server that imported the model once,
    so no worker imports it again (which costs a worker more CPU than a short run). The
    server is a fresh single-threaded process: a fork of this one, whose numerical libraries
    and the app or a Dask client run threads of their own, could deadlock."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def stop_workers() -> None:
    """End the fork server if this process started one (it ends by itself when this process
    ends, but then nobody waits for it): a command leaves no process behind, and the CPU time
    of its workers counts as its own.

    Workers still alive here were cut off by Ctrl-C, one perhaps still waiting for the task
    this process never finished sending; they end first, since the server waits for every
    worker it forked. Only the server knows them all (a worker cut off while starting is not
    among this process's children).
    """
    from multiprocessing import forkserver

    import psutil

    server = forkserver._forkserver
    if server._forkserver_pid is not None:
        try:
            workers = psutil.Process(server._forkserver_pid).children()
        except psutil.NoSuchProcess:
            workers = []
        for worker in workers:
            with suppress(psutil.NoSuchProcess):
                worker.kill()
    server._stop()  # CPython's one way to end it (its own tests use it)


class WorkerPool(ProcessPoolExecutor):
    """Worker processes (``worker_context``) that leave Ctrl-C to the parent and end with it.
    Processes start as tasks are submitted, so Ctrl-C is held back while the pool is made and
    while tasks are submitted."""

    def __init__(self, workers: int | None = None) -> None:
        with sigint_held():
            super().__init__(max_workers=workers or default_workers(),
                             mp_context=worker_context(),
                             initializer=_init_worker, initargs=(os.getpid(),))

    def submit(self, fn, /, *args, **kwargs):
        with sigint_held():
            return super().submit(fn, *args, **kwargs)

    def stop(self) -> None:
        """End now: cancel what has not started and end the workers (an interruption)."""
        processes = list((getattr(self, "_processes", None) or {}).values())
        self.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        self.shutdown(wait=True)

    def __exit__(self, kind, value, tb):
        if kind is not None:  # interrupted or failed: do not wait for the rest
            self.stop()
            return False
        return super().__exit__(kind, value, tb)


class LocalBackend:
    """A pool of worker processes on this machine (one worker runs in this process)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()

    def describe(self) -> str:
        return f"{self.workers} local worker{'s' * (self.workers > 1)}"

    def __enter__(self) -> LocalBackend:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def prepare(self, runs: int) -> None:
        """Start the fork server now when ``runs`` will need worker processes: it imports
        the model on another core while this process still prepares the runs."""
        if min(self.workers, runs) > 1:
            from multiprocessing import forkserver, resource_tracker

            worker_context()
            # The server must start with Ctrl-C held back, as workers do; starting the
            # resource tracker lets Ctrl-C through again, so it starts first.
            with sigint_held():
                resource_tracker.ensure_running()
            with sigint_held():
                forkserver.ensure_running()

    def run(self, tasks: list[Task]) -> Iterator[tuple[Task, dict]]:
        if self.workers == 1 or len(tasks) <= 1:
            for task in tasks:
                yield task, execute(task)
            return
        from concurrent.futures import as_completed
        from concurrent.futures.process import BrokenProcessPool

        pool = WorkerPool(min(self.workers, len(tasks)))
        finished = False
        try:
            futures = {pool.submit(execute, task): task for task in tasks}
            for future in as_completed(futures):
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    raise WorkerLostError("a worker process died (killed, or out of memory?); "
                                     "finished runs are kept: run the sweep again to go on"
                                     ) from None
                yield futures[future], outcome
            finished = True
        finally:
            if not finished:  # interrupted or a worker died: stop the rest now
                pool.stop()
            pool.shutdown(wait=True)


# --- Dask -----------------------------------------------------------------------------------

LOOPBACK = "127.0.0.1"


def local_cluster(workers: int):
    """A Dask cluster of ``workers`` processes on this machine, for one sweep.

    Every listener (scheduler, nannies, workers) is on the loopback interface and speaks TLS
    with a key and certificate made for this cluster alone (``Security.temporary``, kept in
    memory), so neither another machine nor another user of this one can reach it or submit
    work to it. Dask also gives the scheduler and each worker a plain HTTP server (dashboard,
    cluster state, metrics); here it has no dashboard and no routes, on a free loopback port.
    Its processes log only what is critical: a run's failure comes back with its result, and
    a sweep stopped by Ctrl-C is not news its workers need to add to.
    """
    import logging

    import dask
    from distributed import LocalCluster
    from distributed.security import Security

    try:
        security = Security.temporary()
    except ImportError:
        raise ConfigError("--backend dask needs the cluster extra (cryptography for TLS): "
                          "pip install 'safecity-abm[cluster]'") from None
    no_http = {"distributed.scheduler.http.routes": [], "distributed.worker.http.routes": []}
    # The cluster's processes start here, leave Ctrl-C to us, and take the settings above.
    with sigint_left_to_us(), dask.config.set(no_http):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                            host=LOOPBACK, protocol="tls://", security=security,
                            dashboard_address=None, worker_dashboard_address=None,
                            scheduler_kwargs={"dashboard": False,
                                              "dashboard_address": f"{LOOPBACK}:0"},
                            silence_logs=logging.CRITICAL)


def _interrupt_quietly(previous, signum, frame) -> None:
    """Ctrl-C during a Dask sweep: what Dask logs while it drops the work under way (keys
    forgotten, streams closed, callbacks of interrupted calls) is not news to the user who
    pressed it, so it is silenced before the interruption reaches Dask's code. The handler
    it stands in for is then called, so the program knows Ctrl-C was pressed."""
    import logging

    logging.disable(logging.CRITICAL)  # (Dask sets levels of its own loggers one by one)
    if callable(previous):
        previous(signum, frame)
    raise KeyboardInterrupt


class DaskBackend:
    """Runs on a Dask cluster: an existing scheduler, or a local cluster of processes.

    Use it as a context manager: a given scheduler is connected to on entry, so a wrong
    address is reported before anything is written. A ``tls://`` scheduler is reached with
    the certificates of Dask's configuration (``distributed.comm.tls``; see the README).
    """

    def __init__(self, workers: int | None = None, scheduler: str | None = None) -> None:
        self.workers = workers or default_workers()
        self.scheduler = scheduler
        self.client = None

    def describe(self) -> str:
        if self.scheduler:
            return f"Dask scheduler {self.scheduler}"
        return f"local Dask cluster of {self.workers} worker{'s' * (self.workers > 1)}"

    def __enter__(self) -> DaskBackend:
        try:
            import dask
            from distributed import Client
        except ImportError:
            raise ConfigError("--backend dask needs the cluster extra: "
                              "pip install 'safecity-abm[cluster]'") from None
        if self.scheduler:
            timeout = dask.config.get("distributed.comm.timeouts.connect")
            try:
                self.client = Client(self.scheduler, timeout=timeout)
            except (OSError, TimeoutError, ValueError, TypeError) as exc:
                raise ConfigError(f"--scheduler {self.scheduler}: cannot connect "
                                  f"({type(exc).__name__})") from None
        return self

    def prepare(self, runs: int) -> None:
        """Nothing to start ahead: the cluster is there, or is made with the runs."""

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def run(self, tasks: list[Task]) -> Iterator[tuple[Task, dict]]:
        from distributed import Client, as_completed

        from abm.experiment.store import Status

        if not tasks:
            return
        main = threading.current_thread() is threading.main_thread()
        previous = signal.getsignal(signal.SIGINT) if main else None
        if main:
            signal.signal(signal.SIGINT, partial(_interrupt_quietly, previous))
        cluster = None
        client = self.client
        futures: dict = {}
        try:
            if client is None:  # no scheduler given: a local cluster for this sweep
                cluster = local_cluster(min(self.workers, len(tasks)))
                client = Client(cluster, security=cluster.security)
            futures = {client.submit(execute, task, pure=False): task for task in tasks}
            for future in as_completed(futures):
                try:
                    outcome = future.result()
                except Exception as exc:  # noqa: BLE001 - e.g. a worker died on this run
                    outcome = {"status": Status.FAILED, "error": f"{type(exc).__name__}: {exc}"}
                yield futures[future], outcome
        finally:
            for future in futures:
                future.cancel()
            if cluster is not None:
                if client is not None:
                    client.close()
                cluster.close()
            if main:
                signal.signal(signal.SIGINT, previous)


def backend(kind: str, workers: int | None, scheduler: str | None):
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers: must be at least 1 (got {workers})")
    if kind == "local":
        if scheduler:
            raise ConfigError("--scheduler needs --backend dask")
        return LocalBackend(workers)
    return DaskBackend(workers, scheduler)
