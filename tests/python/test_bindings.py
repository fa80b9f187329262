"""grapevine.sim (the Python bindings) against the `grapevine sim` CLI.

Run by ctest (label python) with PYTHONPATH=<build>/python and GRAPEVINE_BIN=<the grapevine
binary>; by hand: PYTHONPATH=build/release/python GRAPEVINE_BIN=build/release/tools/grapevine
python3 -m pytest -q tests/python. Each scenario is small (well under 2 s).
"""

import datetime
import json
import os
import subprocess
import tempfile

import pytest

import grapevine.sim as sim

BIN = os.environ.get("GRAPEVINE_BIN", "build/release/tools/grapevine")

# Fields that measure the simulating process (wall clock, memory), not the simulation.
VOLATILE = {"wall_seconds", "peak_rss_bytes", "events_per_second", "cpu_ms_per_node_second",
            "rss_bytes_per_node"}


def cli(*args):
    out = subprocess.run([BIN, "sim", *args, "--json"], check=True, capture_output=True,
                         text=True, timeout=60).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def assert_same(py, js, path="result"):
    """Equal field by field (floats exactly: both are the same double), volatile fields aside."""
    if isinstance(js, dict):
        assert isinstance(py, dict), path
        assert set(py) - {"event_stream"} == set(js), path
        for k, v in js.items():
            if k not in VOLATILE:
                assert_same(py[k], v, f"{path}.{k}")
    elif isinstance(js, list):
        assert isinstance(py, list) and len(py) == len(js), path
        for i, (a, b) in enumerate(zip(py, js)):
            assert_same(a, b, f"{path}[{i}]")
    else:
        assert type(py) is type(js) and py == js, f"{path}: {py!r} != {js!r}"


def test_multicast_matches_cli():
    py = sim.multicast(protocol=["push", "pushpull"], nodes=200, fanout=[2, 3], loss=0.1,
                       runs=3, seed=7, stop="counter", stop_k=2)
    js = cli("multicast", "--protocol", "push,pushpull", "--nodes", "200", "--fanout", "2,3",
             "--loss", "0.1", "--runs", "3", "--seed", "7", "--stop", "counter", "--stop-k", "2",
             "--no-progress")
    assert len(py) == 4
    assert isinstance(py[0]["curve_mean"], list) and py[0]["curve_mean"]
    assert_same(py, js)


def test_multicast_async_flag():
    py = sim.multicast(protocol="pull", nodes=100, runs=2, seed=3, async_=True, period_ms=500)
    js = cli("multicast", "--protocol", "pull", "--nodes", "100", "--runs", "2", "--seed", "3",
             "--async", "--period-ms", "500", "--no-progress")
    assert py[0]["mode"] == js[0]["mode"]
    assert_same(py, js)


def test_membership_matches_cli_with_durations_as_numbers():
    # 60.0 and timedelta(seconds=20) on the Python side, "60s" and "20s" on the CLI's.
    with tempfile.TemporaryDirectory() as tmp:
        events = os.path.join(tmp, "events.jsonl")
        py = sim.membership(detector=["swim", "lifeguard"], nodes=24, duration=60.0,
                            fail_at=datetime.timedelta(seconds=20), fail=2, runs=2, seed=5,
                            loss=0.05, events=True)
        js = cli("membership", "--detector", "swim,lifeguard", "--nodes", "24", "--duration",
                 "60s", "--fail-at", "20s", "--fail", "2", "--runs", "2", "--seed", "5", "--loss",
                 "0.05", "--events", events)
        with open(events) as f:
            stream = [json.loads(line) for line in f if line.strip()]
    assert len(py) == 2
    assert py[0]["event_stream"] == stream and stream
    assert_same(py, js)


def test_views_matches_cli():
    py = sim.views(view=["cyclon", "hyparview"], nodes=100, fail_fraction=[0, 0.3], runs=2,
                   seed=4, cycles=10)
    js = cli("views", "--view", "cyclon,hyparview", "--nodes", "100", "--fail-fraction", "0,0.3",
             "--runs", "2", "--seed", "4", "--cycles", "10", "--no-progress")
    assert len(py) == 4
    assert isinstance(py[0]["in_degree_histogram"], list)
    assert_same(py, js)


def test_cluster_matches_cli_with_node_flags_and_faults():
    with tempfile.TemporaryDirectory() as tmp:
        events = os.path.join(tmp, "events.jsonl")
        py = sim.cluster(nodes=16, duration=40, fault=["crash:1@10s", "leave:1@15s"], runs=2,
                         seed=9, detector="swim", multicasts=3, events=True)
        js = cli("cluster", "--nodes", "16", "--duration", "40s", "--fault", "crash:1@10s",
                 "--fault", "leave:1@15s", "--runs", "2", "--seed", "9", "--detector", "swim",
                 "--multicasts", "3", "--events", events)
        with open(events) as f:
            stream = [json.loads(line) for line in f if line.strip()]
    assert len(js) == 1 and isinstance(py, dict)
    assert len(py["per_run"]) == 2
    assert py["event_stream"] == stream and stream
    assert_same(py, js[0])


def test_cluster_demo_scenario_matches_cli():
    py = sim.cluster(scenario="demo", nodes=8, crash=1, seed=2)
    js = cli("cluster", "--scenario", "demo", "--nodes", "8", "--crash", "1", "--seed", "2")
    assert isinstance(py["crashes"], list)
    assert_same(py, js[0])


@pytest.mark.parametrize("call, name", [
    (lambda: sim.multicast(nodes=1), "nodes"),
    (lambda: sim.multicast(loss=1.5), "loss"),
    (lambda: sim.multicast(runs=0), "runs"),
    (lambda: sim.multicast(protocol="flood"), "protocol"),
    (lambda: sim.multicast(fanout=[2, "x"]), "fanout"),
    (lambda: sim.multicast(nodes=True), "nodes"),
    (lambda: sim.multicast(blind="yes"), "blind"),
    (lambda: sim.membership(fail_at="soon"), "fail_at"),
    (lambda: sim.membership(detector="oracle"), "detector"),
    (lambda: sim.membership(duration=10, fail_at=20), "duration"),
    (lambda: sim.views(view="chord"), "view"),
    (lambda: sim.views(fail_fraction=1), "fail_fraction"),
    (lambda: sim.cluster(nodes=16), "duration"),
    (lambda: sim.cluster(duration=10, detector="oracle"), "detector"),
    (lambda: sim.cluster(duration=10, fault=["crash:x@1s"]), "fault"),
    (lambda: sim.cluster(duration=10, latency=("5ms", "oops")), "latency"),
])
def test_bad_arguments_raise_value_error_naming_them(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_unknown_and_reserved_keywords_raise_type_error():
    with pytest.raises(TypeError, match="nodez"):
        sim.multicast(nodez=10)
    with pytest.raises(TypeError, match="json"):
        sim.views(json=True)


def test_help_is_the_clis():
    assert "--fail-at" in sim.help("membership")
    assert "--fault" in sim.cluster.__doc__


def test_arrays_give_numpy_curves():
    numpy = pytest.importorskip("numpy")
    lists = sim.multicast(nodes=100, runs=2, seed=1)
    arrays = sim.multicast(nodes=100, runs=2, seed=1, arrays=True)
    assert isinstance(arrays[0]["curve_mean"], numpy.ndarray)
    assert arrays[0]["curve_mean"].tolist() == lists[0]["curve_mean"]
    assert arrays[0]["rounds_mean"] == lists[0]["rounds_mean"]
