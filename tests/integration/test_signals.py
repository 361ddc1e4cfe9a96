"""SIGHUP: the signal logrotate and init systems send to say "reopen your log".

With the file log on (file_log_enabled, qBittorrent's default) SIGHUP reopens
<file_log_path>/qbittorrent.log (test_file_log.py::test_sighup_reopens);
stderr belongs to whoever started the daemon and is left alone. What matters
here is that SIGHUP, whose default action terminates a process, does not end
the daemon without its final save:

  * after SIGHUP (several, with a torrent loaded) the daemon is alive, the
    API answers, and log/main says the signal was received;
  * a SIGTERM afterwards still ends in the orderly shutdown (exit 0,
    `torrentd stopped`), and the torrent is there after a restart.
"""
import os
import signal

from conftest import MINI_IP
from tdlib import Torrentd, make_torrent, wait_until


def _hup_lines(td):
    return [e for e in td.get("/api/v2/log/main").json() if "SIGHUP received" in e["message"]]


def test_sighup_does_not_kill_and_is_logged(procs, workdir):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), MINI_IP)).start()
    tbytes, _ = make_torrent({"name": "hup.bin", "length": 5, "piece length": 16384,
                              "pieces": b"\0" * 20})
    td.add(tbytes, td.save_path, stopped=True)
    wait_until(lambda: len(td.info()) == 1, 10, "torrent added", procs=[td])

    for n in range(1, 4):
        os.kill(td.pid, signal.SIGHUP)
        wait_until(lambda: len(_hup_lines(td)) >= n, 10, "SIGHUP %d logged" % n, procs=[td])
    td.check_alive()
    assert len(td.info()) == 1

    os.kill(td.pid, signal.SIGTERM)
    assert td.proc.wait(15) == 0
    assert b"torrentd stopped" in td.log_text()[td.log_text().rindex(b"\n=== "):]

    td.start()
    assert len(td.info()) == 1
