"""Shared plumbing of the benchmark scripts: an Odoo registry outside the server,
wall-clock timing that freezegun does not touch, and peak memory per measure.

Not part of the addon: nothing under ``bench/`` is imported by Odoo.
"""

import argparse
import contextlib
import os
import statistics
import time
from datetime import date

# freezegun patches time.time/monotonic/perf_counter; the raw clock stays real
_CLOCK = time.CLOCK_MONOTONIC


def now():
    """Seconds on a monotonic clock that freeze_time does not fake."""
    return time.clock_gettime(_CLOCK)


def odoo_args(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("-c", "--config", help="Odoo configuration file")
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--addons-path", help="Odoo addons path (else the config's)")
    return parser


def configure(args):
    """Parse the Odoo configuration (addons path, log level) from the arguments."""
    from odoo.tools import config

    odoo_argv = [
        "-d",
        args.database,
        "--log-level",
        os.environ.get("BENCH_LOG", "warn"),
    ]
    if args.config:
        odoo_argv[:0] = ["-c", args.config]
    if args.addons_path:
        odoo_argv += ["--addons-path", args.addons_path]
    config.parse_config(odoo_argv)


def registry_from_args(args):
    """Parse the Odoo configuration and return the database's registry."""
    import odoo

    configure(args)
    return odoo.modules.registry.Registry(args.database)


@contextlib.contextmanager
def environment(registry, context=None):
    """A superuser environment on a new cursor, committed on success."""
    from odoo import SUPERUSER_ID, api

    with registry.cursor() as cr:
        yield api.Environment(cr, SUPERUSER_ID, dict(context or {}))


def bench_today(env):
    value = env["ir.config_parameter"].sudo().get_param("bench.today")
    if not value:
        raise SystemExit("bench.today is not set: this is not a benchmark database")
    return date.fromisoformat(value)


# -- memory -------------------------------------------------------------------


def _status_kib(key):
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def reset_peak_rss():
    """Reset the kernel's high-water mark of resident memory (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


def _backend_cpu(pid):
    """CPU seconds used so far by a PostgreSQL backend (same machine)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _own_cpu():
    times = os.times()
    return time.process_time() + times.children_user + times.children_system


class Measure:
    """Wall time, CPU time and peak resident memory of a block.

    The CPU time adds this process, its children (wkhtmltopdf) and, when an
    environment is given, its PostgreSQL backend: on a shared machine it shows
    what the work costs whatever the load; the wall time is what a user waits.
    The peak memory is the high-water mark of resident memory above its level
    at the start.
    """

    def __init__(self, env=None):
        self.seconds = self.cpu_seconds = self.peak_mib = None
        self._pg_pid = None
        if env is not None:
            env.cr.execute("SELECT pg_backend_pid()")
            self._pg_pid = env.cr.fetchone()[0]

    def _cpu(self):
        return _own_cpu() + (_backend_cpu(self._pg_pid) if self._pg_pid else 0.0)

    def __enter__(self):
        self._reset = reset_peak_rss()
        self._rss0 = _status_kib("VmRSS")
        self._cpu0 = self._cpu()
        self._t0 = now()
        return self

    def __exit__(self, *exc):
        self.seconds = now() - self._t0
        self.cpu_seconds = self._cpu() - self._cpu0
        if self._reset:
            self.peak_mib = max(_status_kib("VmHWM") - self._rss0, 0) / 1024
        return False


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None
