"""Where the county functions run: worker processes on this machine, or an Apache Spark cluster.

A batch command's population work is "apply a pure function to each county's job": the job names
the county and the Parquet layout it reads and writes (partitioned by month and county), and the
function returns a small summary (counts, totals) to the process that started the run, which
records it in the registry. ``Engine.map_counties`` is that one operation:

- ``LocalEngine``: fresh worker processes on this machine (the default, ``--engine local``);
- ``SparkEngine``: one Spark task per county (``--engine spark``), on ``local[N]`` or a cluster
  (``--spark-master``). The function is the same, unchanged; Spark only decides where it runs.

Results come back in waves of a bounded number of counties (``SparkEngine.wave``), so the caller
writes the ledger in bounded batches while the cluster works. A task that Spark retries rewrites
its county's files atomically with the same content, and the caller records each county exactly
once (its progress file and the registry rows it replaces), so a retry or a resume never counts a
county twice (docs/scale.md, ADR 0023).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from safetynet.errors import InputError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = [
    "ENGINES",
    "Engine",
    "LocalEngine",
    "SparkEngine",
    "die_with_parent",
    "make_engine",
    "stop_workers",
]

ENGINES = ("local", "spark")
J = TypeVar("J")
R = TypeVar("R")


class Engine(Protocol):
    """Runs a pure county function over county jobs; yields each result once, as they finish."""

    name: str

    def map_counties(self, fn: Callable[[J], R], jobs: Sequence[J]) -> Iterator[R]: ...


@dataclass
class LocalEngine:
    """Worker processes on this machine (``workers``: at most that many counties in flight;
    None: one per core). One worker or one job: in this process."""

    workers: int | None = None
    name: str = "local"

    def map_counties(self, fn: Callable[[J], R], jobs: Sequence[J]) -> Iterator[R]:
        workers = self.workers or min(os.cpu_count() or 1, max(len(jobs), 1))
        if workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                yield fn(job)
            return
        # Fresh interpreters ("spawn"): forking a process whose Polars or Arrow thread pools are
        # running can deadlock the child. At most ``workers`` counties are in flight. Each worker
        # ends with this process (``die_with_parent``), however this process ends.
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=die_with_parent,
            initargs=(os.getpid(),),
        )
        try:
            pending: set[Future[R]] = set()
            queue = list(jobs)
            while queue or pending:
                while queue and len(pending) < workers:
                    pending.add(pool.submit(fn, queue.pop(0)))
                completed, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in completed:
                    yield future.result()
        except BaseException:
            # Interrupted (Ctrl-C, a failed county, the caller stopped iterating): stop the
            # counties in flight now rather than wait for them; a resume redoes them.
            stop_workers(pool)
            raise
        pool.shutdown(wait=True)


def die_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this worker as soon as the process that started it is gone.

    A worker blocked on its job queue would otherwise wait forever after its parent is killed
    (SIGKILL runs no clean-up), holding its memory. A daemon thread waits on the parent's
    sentinel (a pipe the parent holds open; end of file when it dies) and, as a fallback, checks
    the parent pid once a second.
    """

    def watch() -> None:
        parent = multiprocessing.parent_process()
        sentinel = None if parent is None else parent.sentinel
        while os.getppid() == parent_pid:
            if sentinel is None:
                time.sleep(1.0)
            elif multiprocessing.connection.wait([sentinel], timeout=1.0):
                break
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Cancel the queued jobs and terminate the pool's worker processes at once."""
    # ``_processes`` is private but the only handle on the workers; empty once shut down.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)


@dataclass
class SparkEngine:
    """One Spark task per county, on ``master`` (``local[N]``: N cores of this machine; or a
    cluster's URL, ``spark://host:7077``, ``yarn``, ``k8s://...``). The session is started on
    first use and shared by every run of this process (``session``).

    ``wave``: counties per Spark job (default four per core of the cluster), the bound on the
    results the driver holds and records at once. ``conf``: extra Spark settings."""

    master: str | None = None
    wave: int | None = None
    conf: dict[str, str] = field(default_factory=dict)
    name: str = "spark"

    @property
    def session(self) -> SparkSession:
        return spark_session(self.master, self.conf)

    @property
    def parallelism(self) -> int:
        return int(self.session.sparkContext.defaultParallelism)

    def map_counties(self, fn: Callable[[J], R], jobs: Sequence[J]) -> Iterator[R]:
        if not jobs:
            return
        context = self.session.sparkContext
        size = self.wave or 4 * self.parallelism
        for start in range(0, len(jobs), size):
            chunk = list(jobs[start : start + size])
            # One partition per county: Spark schedules each as a task on a free core; the
            # function and its job are pickled to the executors, which import safetynet.
            rdd = context.parallelize(chunk, numSlices=len(chunk))
            yield from rdd.map(fn).collect()


_RUNNING: list[SparkSession] = []  # Spark allows one session (one JVM context) per process
# Settings of every session: no web UI, Arrow for Python functions, partition columns read as
# text (county codes keep their leading digits), few shuffle partitions for the small results of
# the step across counties (a cluster's spark-submit --conf overrides any of them).
BASE_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
}
CLUSTER_CONF = {"spark.sql.shuffle.partitions": "8"}  # unless spark-submit gives it


def spark_session(master: str | None = None, conf: dict[str, str] | None = None) -> SparkSession:
    """The process's Spark session, started on first use on ``master`` (Java 17+ and the
    ``spark`` extra needed) and shared by every later run. Local tasks run this interpreter; a
    cluster's executors run the Python named by ``PYSPARK_PYTHON`` (docs/scale.md)."""
    if _RUNNING:
        running = _RUNNING[0]
        if master is not None and running.sparkContext.master != master:
            raise InputError(
                "--spark-master",
                f"本进程已在 {running.sparkContext.master} 上运行 Spark / this process already "
                f"runs Spark on {running.sparkContext.master}, not {master}",
            )
        return running
    try:
        from pyspark.sql import (
            SparkSession,
        )  # pyspark is an optional extra, imported by the Spark engine only
    except ImportError:
        raise InputError(
            "--engine",
            "Spark 引擎需要安装 spark 扩展 / the Spark engine needs the spark extra: "
            "pip install 'safetynet[spark]'",
        ) from None
    from pyspark import (
        SparkConf,
        SparkContext,
    )  # pyspark is an optional extra, imported by the Spark engine only

    if master is None or master.startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    # Under spark-submit the master and its --conf settings are given: keep them. Otherwise
    # pyspark starts a local JVM, on every core unless ``master`` says otherwise.
    SparkContext._ensure_initialized()
    given = SparkConf()
    builder: Any = SparkSession.builder.appName("safetynet")
    if master is not None:
        builder = builder.master(master)
    for name, value in CLUSTER_CONF.items():
        if not given.contains(name):
            builder = builder.config(name, value)
    for name, value in {**BASE_CONF, **(conf or {})}.items():
        builder = builder.config(name, value)
    session: SparkSession = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    _RUNNING.append(session)
    return session


def stop_sessions() -> None:
    """Stop the Spark session this process started (its JVM ends with it)."""
    for session in _RUNNING:
        session.stop()
    _RUNNING.clear()


def make_engine(
    name: str, *, workers: int | None = None, master: str | None = None
) -> LocalEngine | SparkEngine:
    """The engine a batch command's ``--engine`` names."""
    if name == "local":
        if master is not None:
            raise InputError("--spark-master", "只用于 --engine spark / only with --engine spark")
        return LocalEngine(workers)
    if name == "spark":
        if workers is not None:
            master = master or f"local[{workers}]"
        return SparkEngine(master)
    raise InputError(
        "--engine", f"{name!r} 不是引擎 / is not an engine: one of {', '.join(ENGINES)}"
    )
