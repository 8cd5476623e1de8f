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
from typing import NamedTuple

from abm.config import ConfigError


class WorkerLostError(RuntimeError):
    """A worker process ended without reporting (the sweep stops; finished runs are kept)."""


class Task(NamedTuple):
    run_id: str
    config: dict
    measures: tuple[str, ...] = ()  # figures beyond the summary (abm.measures), e.g. calibrate


def execute(task: Task) -> dict:
    """Run one simulation; an error is caught and returned, so the sweep goes on."""
    from abm.config import validate
    from abm.experiment.store import Status, clean
    from abm.simulate import simulate

    started = time.perf_counter()
    try:
        result = simulate(validate(task.config, origin=task.run_id))
    except Exception as exc:  # noqa: BLE001 - recorded as a failed run
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" ({last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
        return {"status": Status.FAILED, "error": f"{type(exc).__name__}: {exc}{where}",
                "wall_s": round(time.perf_counter() - started, 3)}
    summary = result.summary
    if task.measures:
        from abm.measures import measure_all

        summary = {**summary, **measure_all(task.measures, result)}
    return {"status": Status.OK, "summary": clean(summary),
            "wall_s": round(result.wall_s, 3)}


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# --- local processes ------------------------------------------------------------------------

def process_pool(workers: int | None = None):
    """A pool of fresh worker processes (spawned: safe from threaded parents such as the app
    or a Dask client, where fork can deadlock)."""
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=workers or default_workers(),
                               mp_context=multiprocessing.get_context("spawn"))


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)  # the sweep was killed: do not run on as an orphan


def _init_worker(parent: int) -> None:
    """Workers leave Ctrl-C to the sweep, and end when the sweep process dies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


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

    def run(self, tasks: list[Task]) -> Iterator[tuple[Task, dict]]:
        if self.workers == 1 or len(tasks) <= 1:
            for task in tasks:
                yield task, execute(task)
            return
        from concurrent.futures import ProcessPoolExecutor, as_completed
        from concurrent.futures.process import BrokenProcessPool

        # Fresh interpreters ("spawn"): no state or threads inherited from this process.
        pool = ProcessPoolExecutor(max_workers=min(self.workers, len(tasks)),
                                   mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(os.getpid(),))
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
                processes = list((getattr(pool, "_processes", None) or {}).values())
                pool.shutdown(wait=False, cancel_futures=True)
                for process in processes:
                    process.terminate()
            pool.shutdown(wait=True)


# --- Dask -----------------------------------------------------------------------------------

class DaskBackend:
    """Runs on a Dask cluster: an existing scheduler, or a local cluster of processes.

    Use it as a context manager: a given scheduler is connected to on entry, so a wrong
    address is reported before anything is written.
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
            except (OSError, TimeoutError, ValueError) as exc:
                raise ConfigError(f"--scheduler {self.scheduler}: cannot connect "
                                  f"({type(exc).__name__})") from None
        return self

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def run(self, tasks: list[Task]) -> Iterator[tuple[Task, dict]]:
        from distributed import as_completed

        from abm.experiment.store import Status

        if not tasks:
            return
        cluster = None
        client = self.client
        if client is None:  # no scheduler given: a local cluster for this sweep
            import logging

            from distributed import Client, LocalCluster

            cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                   processes=True, dashboard_address=None,
                                   silence_logs=logging.ERROR)
            client = Client(cluster)
        futures: dict = {}
        try:
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
                client.close()
                cluster.close()


def backend(kind: str, workers: int | None, scheduler: str | None):
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers: must be at least 1 (got {workers})")
    if kind == "local":
        if scheduler:
            raise ConfigError("--scheduler needs --backend dask")
        return LocalBackend(workers)
    return DaskBackend(workers, scheduler)
