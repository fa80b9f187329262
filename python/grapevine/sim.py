"""The ``grapevine sim`` commands as Python functions.

Each function takes the command's flags as keyword arguments (``--fail-at`` is ``fail_at``) and
returns what ``grapevine sim COMMAND --json`` prints, as Python values: the very JSON objects the
CLI assembles (see ``python/sim_module.cc``), so the numbers are the CLI's to the last bit.

Values:
  * numbers and strings as on the command line (``nodes=1000``, ``loss=0.1``, ``protocol="push"``);
  * a list or tuple where the CLI takes a comma list (``fanout=[1, 2, 3]``), or repeats a flag
    (``fault=["crash:2@30s", "leave:1@40s"]``);
  * durations as seconds (``fail_at=30`` or ``30.0``), ``datetime.timedelta``, or the CLI's strings
    (``"30s"``, ``"500ms"``, ``"2m"``);
  * ``True`` for a flag (``async_=True`` or ``**{"async": True}`` for ``--async``), ``False`` or
    ``None`` to leave it out (a ``None`` value always means "the CLI's default").
  * ``arrays=True``: lists of numbers (infection curves, histograms) as numpy arrays (needs numpy;
    the default is plain lists, exactly the CLI's JSON).
  * ``events=True`` (membership, cluster): the event stream of the first run, as a list of dicts
    (the lines ``--events FILE`` writes), under the key ``"event_stream"`` of the first result.

Returns: ``multicast``, ``membership`` and ``views`` a list of dicts, one per series (comma lists
run one series per combination, as the CLI prints one JSON line per series); ``cluster`` one dict
(with ``per_run`` when ``runs > 1``). Bad arguments raise ``ValueError`` naming the argument;
unknown keyword arguments raise ``TypeError``.
"""

import datetime
import json
import numbers
import os
import tempfile

from . import _sim

__all__ = ["multicast", "membership", "views", "cluster", "help"]

# Flags the bindings set themselves.
_RESERVED = {"json", "no-progress", "help"}


def help(command):  # noqa: A001 - the CLI's word
    """The CLI's ``--help`` text of ``grapevine sim COMMAND``."""
    return _sim.help(command)


def _text(name, value):
    if isinstance(value, bool):
        raise ValueError(f"{name}: expected a number or a string, got {value!r}")
    if isinstance(value, str):
        return value
    if isinstance(value, datetime.timedelta):
        return repr(value.total_seconds())
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    raise ValueError(f"{name}: expected a number, a string or a list, got {value!r}")


def _flags(command, kwargs):
    spec = {o["name"]: o for o in _sim.options(command)}
    argv = []
    for key, value in kwargs.items():
        flag = key.rstrip("_").replace("_", "-")  # async_ -> async
        if flag not in spec or flag in _RESERVED:
            raise TypeError(f"{command}() got an unexpected keyword argument '{key}'")
        if value is None:
            continue
        name = flag.replace("-", "_")
        o = spec[flag]
        if not o["takes_value"]:
            if not isinstance(value, bool):
                raise ValueError(f"{name}: expected True or False, got {value!r}")
            if value:
                argv.append("--" + flag)
            continue
        if isinstance(value, (list, tuple)):
            texts = [_text(name, v) for v in value]
            if not texts:
                raise ValueError(f"{name}: empty list")
            if o["repeatable"]:
                for t in texts:
                    argv += ["--" + flag, t]
            else:
                argv += ["--" + flag, (".." if flag == "latency" else ",").join(texts)]
        else:
            argv += ["--" + flag, _text(name, value)]
    if "no-progress" in spec:
        argv.append("--no-progress")
    return argv + ["--json"]


def _to_arrays(value):
    """Lists of numbers (curves, histograms) -> numpy arrays, recursively; the rest unchanged."""
    import numpy

    if isinstance(value, dict):
        return {k: _to_arrays(v) for k, v in value.items()}
    if isinstance(value, list):
        if value and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            return numpy.asarray(value)
        return [_to_arrays(v) for v in value]
    return value


def _run(command, kwargs):
    arrays = kwargs.pop("arrays", False)
    rows = _run_cli(command, kwargs)
    return _to_arrays(rows) if arrays else rows


def _run_cli(command, kwargs):
    events = kwargs.pop("events", None)
    path = None
    if events is True:
        fd, path = tempfile.mkstemp(prefix="grapevine-events-", suffix=".jsonl")
        os.close(fd)
        kwargs["events"] = path
    elif events not in (None, False):
        kwargs["events"] = events
    try:
        rows = _sim.run(command, _flags(command, kwargs))
        if path is not None and rows:
            with open(path) as f:
                rows[0]["event_stream"] = [json.loads(line) for line in f if line.strip()]
    finally:
        if path is not None:
            os.unlink(path)
    return rows


def multicast(**kwargs):
    return _run("multicast", kwargs)


def membership(**kwargs):
    return _run("membership", kwargs)


def views(**kwargs):
    return _run("views", kwargs)


def cluster(**kwargs):
    rows = _run("cluster", kwargs)
    return rows[0] if rows else None


for _f in (multicast, membership, views, cluster):
    _f.__doc__ = (
        f"``grapevine sim {_f.__name__} --json`` with the flags as keyword arguments "
        "(see the module's docstring for values and results). The CLI's help:\n\n"
        + _sim.help(_f.__name__)
    )
del _f
