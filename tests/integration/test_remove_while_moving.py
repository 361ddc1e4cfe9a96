"""A torrent deleted while its data is being moved (setSavePath, setDownloadPath,
setLocation answer before the move ends), the pattern of qbittorrent-api's own
tests. Before the fix the move's completion put the removed torrent back on
the change list (freed later: heap-use-after-free when the next torrent was
added) and, with deleteFiles, the deletion met the move's exclusive storage
job, failed with EBUSY unnoticed and the torrent was never freed (a leak at
exit, its files never deleted). The procs fixture fails the test on any
sanitizer report, leaks at exit included."""
import os

import pytest

from conftest import LEECH_IP
from tdlib import Torrentd, make_torrent, wait_until

PL = 1 << 18


def _torrent(name, size):
    """Metadata only (no data on disk), many pieces: like the test torrents
    qbittorrent-api adds stopped."""
    return make_torrent({"name": name, "piece length": PL, "length": size,
                         "pieces": os.urandom(20 * (-(-size // PL)))},
                        announce="http://127.0.0.1:9/announce")


@pytest.mark.parametrize("endpoint", ["setSavePath", "setDownloadPath", "setLocation"])
@pytest.mark.parametrize("delete_files", [True, False])
def test_delete_during_move(workdir, procs, endpoint, delete_files):
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    tb, h = _torrent("moving.iso", 3 << 30)
    for rnd in range(5):
        # adding (again) touches the change list, where a freed torrent was left
        td.add(tb, os.path.join(workdir, "dl%d" % rnd), stopped=True)
        wait_until(lambda: td.torrent(h), 10, "added", procs=[td])
        dest = os.path.join(workdir, "dest%d" % rnd)
        td.req("POST", "/api/v2/torrents/" + endpoint, data={"id": h, "path": dest, "hashes": h, "location": dest})
        td.delete(h, delete_files=delete_files)
        wait_until(lambda: td.torrent(h) is None, 10, "removed", procs=[td])
    td.stop()
    assert td.sanitizer_report() is None, td.sanitizer_report()
    td.start()
    assert td.info() == [], "a torrent deleted while moving came back after a restart"
