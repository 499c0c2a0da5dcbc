"""The Ray engine's dataset step on a small cluster: ``annotate_dataset`` with its defaults
must not deadlock a 2-CPU Ray instance (an actor pool that takes every CPU leaves Ray
Data's read tasks none), and a refused connection is one error that names the fix.

The cluster run is a subprocess with a timeout, so that a hang fails the test instead of
hanging the test run. The texts are invented variations of the toy report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from conftest import TOY_REPORT

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'govreport-nlp[ray]')")

from nlp.ray_engine import RayConnectionError, connect, pool_resources  # noqa: E402

TIMEOUT_S = 300

SCRIPT = r"""
import json, sys
import ray
from nlp.pipeline import LabellerSpec
from nlp.ray_engine import annotate_dataset

texts = json.loads(sys.argv[1])
ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)  # a new instance
ray.data.DataContext.get_current().enable_progress_bars = False
ds = ray.data.from_items([{"id": f"r{i}", "text": t} for i, t in enumerate(texts)])
spec = LabellerSpec(name="headings", entities="rules")
for kw in ({}, {"concurrency": 2}):  # the defaults; two actors on two CPUs (one CPU each hung)
    rows = sorted(annotate_dataset(ds, spec, batch_docs=2, **kw).take_all(), key=lambda r: r["id"])
    print(json.dumps([{"id": r["id"], "error": r["error"], "labels": [s["label"] for s in json.loads(r["record"])["sentences"]]
                       if r["record"] else None} for r in rows]))
ray.shutdown()
"""


def invented_texts() -> list[str]:
    places = ["东湖县", "西山区", "南河市", "北岭县", "青松县"]
    texts = [TOY_REPORT.replace("东湖县", p).replace("3200", str(3200 + 11 * i)) for i, p in enumerate(places)]
    return texts + ["，。；"]  # no letters: an error row, not a lost one


def test_pool_leaves_room_for_reads_on_a_small_cluster():
    assert pool_resources(2) == (1, 1.0)  # one actor, one CPU left for the read tasks
    assert pool_resources(16) == (15, 1.0)
    assert pool_resources(1) == (1, 0.5)
    n, cpus = pool_resources(2, concurrency=2)  # two actors asked for: half a CPU each
    assert n == 2 and n * cpus <= 1.0
    n, cpus = pool_resources(3, concurrency=4)
    assert n == 4 and n * cpus <= 2.0 and round(cpus, 4) == cpus
    assert pool_resources(2, concurrency=2, num_cpus=1) == (2, 1)  # explicit values are kept
    with pytest.raises(ValueError):
        pool_resources(4, concurrency=0)


def test_annotate_dataset_default_does_not_deadlock_two_cpus():
    texts = invented_texts()
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}  # a local instance, whatever the shell has
    env.update(OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false", RAY_USAGE_STATS_ENABLED="0")
    p = subprocess.Popen([sys.executable, "-c", SCRIPT, json.dumps(texts, ensure_ascii=False)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)  # the driver and the Ray processes it started
        p.communicate()
        pytest.fail(f"annotate_dataset did not finish in {TIMEOUT_S} s on a 2-CPU Ray instance")
    assert p.returncode == 0, err[-3000:]
    runs = [json.loads(line) for line in out.strip().splitlines()[-2:]]
    rows = runs[0]
    assert [r["id"] for r in rows] == [f"r{i}" for i in range(len(texts))]
    assert all(r["error"] is None and r["labels"] for r in rows[:-1])
    assert rows[-1]["error"] and rows[-1]["labels"] is None
    assert "duty" in rows[0]["labels"] and "plans" in rows[0]["labels"]
    assert runs[1] == rows


class _RefusingRay:
    def init(self, **kw):
        raise ConnectionError("Failed to connect to Ray cluster at 10.0.0.1:6379")


def test_refused_connection_names_the_auth_mode(monkeypatch):
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    with pytest.raises(RayConnectionError) as e:
        connect(_RefusingRay(), "10.0.0.1:6379")
    msg = str(e.value)
    assert "\n" not in msg and "10.0.0.1:6379" in msg and "RAY_AUTH_MODE=token" in msg
    monkeypatch.setenv("RAY_AUTH_MODE", "token")  # set already: the hint would mislead
    with pytest.raises(RayConnectionError, match="cannot join") as e:
        connect(_RefusingRay(), "10.0.0.1:6379")
    assert "RAY_AUTH_MODE" not in str(e.value)
