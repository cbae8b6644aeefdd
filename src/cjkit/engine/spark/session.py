"""A Spark session set up the way cjkit's results need it, and the check that Spark can run.

The settings, and why:

* ``PYSPARK_PYTHON`` is this interpreter, so the Python workers see the same packages (pyarrow,
  polars, cjkit) as the driver;
* ``spark.sql.session.timeZone=UTC``: timestamps cross into Arrow as UTC instants, and calendar
  periods are cut by Polars in ``--tz``, never by Spark;
* ``spark.sql.parquet.outputTimestampType=TIMESTAMP_MICROS``: Parquet written by Spark keeps
  microsecond timestamps that Polars reads as such (Spark's default is INT96);
* ``spark.executorEnv.POLARS_MAX_THREADS``: each Python worker runs one bucket at a time, so its
  Polars should use the cores of one task, not all of the node's;
* the console progress bar and INFO logs are off: the CLI's stderr is for cjkit's messages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cjkit.errors import UsageError

SETTINGS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.ui.showConsoleProgress": "false",
    "spark.ui.enabled": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.executorEnv.POLARS_MAX_THREADS": "1",
    "spark.sql.adaptive.enabled": "true",
}


def require() -> None:
    """Raise UsageError (exit 2, one line) when pyspark or a Java runtime is missing."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise UsageError(
            "engine spark needs pyspark: pip install 'cjkit[spark]'", option="engine"
        ) from None
    java = (
        os.path.join(os.environ["JAVA_HOME"], "bin", "java")
        if os.environ.get("JAVA_HOME")
        else shutil.which("java")
    )
    if not java or not os.path.exists(java):
        raise UsageError(
            "engine spark needs Java 17 or later (install a JDK, or set JAVA_HOME)",
            option="engine",
        )
    try:
        subprocess.run([java, "-version"], capture_output=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        raise UsageError(
            f"engine spark: {java} -version failed; install Java 17+", option="engine"
        ) from None


def parse_conf(items: tuple[str, ...] | list[str]) -> dict[str, str]:
    """Return ``--spark-conf k=v`` items as a dict; raise UsageError for one without ``=``."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"conf {item!r}: expected KEY=VALUE", option="conf")
        out[key.strip()] = value.strip()
    return out


def session(master: str = "local[*]", conf: Mapping[str, str] | None = None) -> Any:
    """Return a SparkSession (an existing one is reused, with cjkit's settings applied).

    ``conf`` overrides the defaults above, except the time zone, which results depend on.
    """
    require()
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    # A local master stays on the loopback interface (and Spark stops warning about it).
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark import SparkConf, SparkContext
    from pyspark.sql import SparkSession

    settings = {**SETTINGS, **(conf or {}), "spark.sql.session.timeZone": "UTC"}
    if SparkContext._active_spark_context is None:
        _start(master, settings, SparkConf, SparkContext)
    builder = SparkSession.builder.master(master).appName("cjkit")
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    for key, value in settings.items():
        if key.startswith("spark.sql."):
            spark.conf.set(key, value)
    return spark


def _start(master: str, settings: Mapping[str, str], conf_cls: Any, context_cls: Any) -> None:
    """Start the JVM with its console output in a log file, not on the CLI's stderr.

    Spark's launcher prints its log4j banner and JVM notices before any setting applies; the
    file (``cjkit-spark.log`` in the temporary folder) keeps them for when something fails.
    """
    from pyspark.java_gateway import launch_gateway

    conf = conf_cls().setMaster(master).setAppName("cjkit").setAll(list(settings.items()))
    log = Path(tempfile.gettempdir()) / "cjkit-spark.log"
    with log.open("ab") as sink:
        gateway = launch_gateway(conf, popen_kwargs={"stdout": sink, "stderr": sink})  # type: ignore[no-untyped-call]
    context_cls(conf=conf, gateway=gateway)
