"""Fixtures for torrentd's integration tests (real processes, loopback only).

Run through `make integration`, which wraps pytest in scripts/netns-run.sh (a
private network namespace with only lo up). The session refuses to start
anywhere else: these tests start peers, trackers and daemons as root.

`make integration` runs them in parallel with pytest-xdist (-n TEST_WORKERS
--dist loadgroup); all workers share the one namespace. Each worker binds
only its own addresses and ports (tdlib.loip, tdlib.free_port), so tests
never see each other. A test that needs something the namespace has only
once (a fixed port, 0.0.0.0:6771 and the LSD multicast group, a fixed path
outside its tmp dir) carries @pytest.mark.xdist_group(NAME): a group runs on
one worker, one test at a time.
"""
import os
import shutil
import sys

import pytest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tdlib  # noqa: E402

# 127.0.0.2-5 in a serial run; 127.0.<N+1>.2-5 in xdist worker gwN (tdlib.loip)
SEED_IP = tdlib.loip(2)
LEECH_IP = tdlib.loip(3)
LEECH2_IP = tdlib.loip(4)
MINI_IP = tdlib.loip(5)

# The shared data set of the swarm tests: > 64 MiB, several files in nested
# folders, odd sizes (none a multiple of the 256 KiB piece), one tiny file.
DATASET_FILES = [
    ("alpha.bin", 32 * tdlib.MiB + 35),
    ("sub/beta.dat", 20000001),
    ("sub/deep/gamma", 13 * tdlib.MiB + 1),
    ("tiny.txt", 7),
    ("zz/omega.bin", tdlib.MiB + 7),
]


def pytest_sessionstart(session):
    if not tdlib.netns_isolated():
        pytest.exit("integration tests must run in a private network namespace with no route "
                    "out (make integration / scripts/netns-run.sh): a connect to 192.0.2.1 did "
                    "not fail with ENETUNREACH", returncode=3)
    if os.geteuid() == 0:
        tdlib.add_loopback_ips()


def pytest_configure(config):
    # registered here too so that a serial run (-p no:xdist) knows the marker
    config.addinivalue_line("markers", "xdist_group(name): run on one xdist worker, one at a time "
                            "(machine-global resources; module fixtures)")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    """A module whose tests share module-scoped processes (module_procs) runs
    on one xdist worker: spread over several, each worker would start its
    own copy of those daemons. Runs before xdist's own hook, which turns
    xdist_group marks into scheduling groups under --dist loadgroup."""
    for item in items:
        if "module_procs" in item.fixturenames and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group("module:" + item.module.__name__))


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _failed(request):
    node = request.node
    return any(getattr(getattr(node, "rep_" + w, None), "failed", False)
               for w in ("setup", "call"))


class ProcSet:
    """Processes started by one test (or module); all stopped by PID at the end,
    in reverse order. Sanitizer reports in torrentd's output fail the test."""

    def __init__(self):
        self.items = []
        self.closers = []

    def add(self, p):
        self.items.append(p)
        return p

    def on_close(self, fn):
        self.closers.append(fn)

    def close(self, show_logs):
        for fn in reversed(self.closers):
            try:
                fn()
            except Exception as e:   # noqa: BLE001 - teardown must go on
                print("closer failed: %s" % e)
        for p in reversed(self.items):
            p.stop()
        reports = []
        for p in self.items:
            if isinstance(p, tdlib.Torrentd):
                r = p.sanitizer_report()
                if r:
                    reports.append("%s (%s):\n%s" % (p.name, p.logpath, r))
            if show_logs:
                print("----- %s log tail (%s) -----\n%s" % (p.name, p.logpath, p.log_tail(40)))
        if reports:
            pytest.fail("sanitizer report in torrentd output:\n" + "\n".join(reports), pytrace=False)


@pytest.fixture
def procs(request):
    ps = ProcSet()
    yield ps
    ps.close(_failed(request))


@pytest.fixture(scope="module")
def module_procs():
    ps = ProcSet()
    yield ps
    ps.close(False)


@pytest.fixture
def workdir(request, tmp_path):
    """A scratch dir for one test; removed when the test passed (the swarm
    tests write hundreds of MiB), kept for inspection when it failed."""
    yield str(tmp_path)
    if not _failed(request):
        shutil.rmtree(str(tmp_path), ignore_errors=True)


@pytest.fixture(scope="session")
def dataset(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("dataset"))
    ds = tdlib.Dataset(os.path.join(root, "seed"), "multi", DATASET_FILES, piece_exp=18)
    assert ds.size >= 64 * tdlib.MiB
    yield ds
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def tracker(procs, workdir):
    """Factory: tracker([hashes]) -> a started opentracker whitelisting them."""
    def start(hashes):
        t = tdlib.Tracker(os.path.join(workdir, "tracker"))
        procs.add(t)
        return t.start(hashes)
    return start
