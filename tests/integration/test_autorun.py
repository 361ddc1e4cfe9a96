"""Running external programs for torrent events (core/runprog): qBittorrent's
"run on torrent added / finished" with its placeholders, µTorrent's
finish_cmd and state_cmd; argv without a shell, hostile names one argument
each, output and exit code logged, a bounded number at once, no zombies."""
import os

from autolib import log_lines, records, recorder, restart_with, small_torrent
from conftest import LEECH_IP, SEED_IP
from tdlib import Torrentd, wait_until

HOSTILE = [
    'q"uo\'te',
    "$(touch PWNED1)",
    "x; touch PWNED2",
    "line1\nline2",
    "-rf --help",
    "`touch PWNED3` && echo hi | cat > PWNED4",
]


def _zombies(pid):
    """Children of pid in state Z."""
    z = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        rest = st[st.rfind(")") + 2:].split()
        if rest[0] == "Z" and int(rest[1]) == pid:
            z.append(int(d))
    return z


def test_added_argv_hostile_names(workdir, procs):
    prog, out = recorder(workdir)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    # Every qBittorrent placeholder, some inside words, some quoted, a literal %.
    td.set_prefs({"autorun_on_torrent_added_enabled": True,
                  "autorun_on_torrent_added_program":
                      '  %s %%N "%%I" --cat=%%L %%G %%K %%C %%Z %%D %%F "[%%R]" %%T %%J 100%%%% ""  '
                      % prog})
    hashes = []
    for i, name in enumerate(HOSTILE):
        t, h, _ = small_torrent(name, size=1000 + i)
        # The metainfo's name is sanitized on parsing ("line1_line2"); a
        # rename is kept as given, so the program sees the hostile text.
        td.add(t, td.save_path, stopped=True, category="c;at $(x)", tags="t1,t2", rename=name)
        hashes.append(h)
    wait_until(lambda: len(records(out)) == len(HOSTILE), 30, "one run per added torrent", procs=[td])
    runs = {r["argv"][1]: r for r in records(out)}
    for name, h in zip(HOSTILE, hashes):
        info = td.torrent(h)
        assert info["name"] == name
        argv = runs[h]["argv"]
        size = 1000 + HOSTILE.index(name)
        assert argv == [name, h, "--cat=c;at $(x)", "t1,t2", h, "1", str(size), info["save_path"],
                        info["content_path"], "[]", "", "-", "100%%", ""], argv
    for i in range(1, 5):
        assert not os.path.exists(os.path.join(td.rundir, "PWNED%d" % i))
        assert not os.path.exists(os.path.join(workdir, "PWNED%d" % i))
    # Own session and process group; output and exit code in the log.
    r = records(out)[0]
    assert r["pgid"] == r["pid"] and r["sid"] == r["pid"]
    # Nothing of the daemon's leaks in: stdin, stdout, stderr (and the fd
    # that listed them).
    assert r["fds"] == [0, 1, 2, 3], r["links"]
    wait_until(lambda: len(log_lines(td, "exited with code 0")) == len(HOSTILE), 10, "exit codes logged")
    assert log_lines(td, "output: recorder stdout %d" % r["pid"])
    assert log_lines(td, "error output: recorder stderr %d" % r["pid"])
    assert log_lines(td, "Running external program. Torrent: \"")
    wait_until(lambda: not _zombies(td.pid), 10, "no zombie children")


def test_missing_program_and_exit_code(workdir, procs):
    prog, out = recorder(workdir, rc=3)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    td.set_prefs({"autorun_on_torrent_added_enabled": True,
                  "autorun_on_torrent_added_program": os.path.join(workdir, "no-such-program") + " %N"})
    t, h, _ = small_torrent("m1")
    td.add(t, td.save_path, stopped=True)
    wait_until(lambda: log_lines(td, "Failed to run external program. Torrent: \"m1\""), 10, "spawn failure logged")
    td.set_prefs({"autorun_on_torrent_added_program": prog + " %N"})
    t, h, _ = small_torrent("m2")
    td.add(t, td.save_path, stopped=True)
    wait_until(lambda: log_lines(td, "exited with code 3"), 10, "exit code 3 logged")
    assert td.get("/api/v2/app/version").status_code == 200


def test_bounded_concurrency(workdir, procs):
    prog, out = recorder(workdir, sleep=0.6)
    td = procs.add(Torrentd(os.path.join(workdir, "td"), LEECH_IP)).start()
    td.set_prefs({"autorun_on_torrent_added_enabled": True, "autorun_on_torrent_added_program": prog + " %N"})
    n = 12
    for i in range(n):
        t, h, _ = small_torrent("c%02d" % i)
        td.add(t, td.save_path, stopped=True)
    wait_until(lambda: len(records(out)) == n, 60, "all %d programs ran" % n, procs=[td])
    runs = records(out)
    assert sorted(r["argv"][0] for r in runs) == ["c%02d" % i for i in range(n)]
    conc = max(r["conc"] for r in runs)
    print("max programs at once: %d" % conc)
    assert 2 <= conc <= 4, conc   # RUNPROG_MAX_RUNNING
    wait_until(lambda: not _zombies(td.pid), 10, "no zombie children")


def test_finished_and_ut_state_cmd(workdir, procs):
    prog, out = recorder(workdir, name="fin")
    uprog, uout = recorder(workdir, name="ufin")
    sprog, sout = recorder(workdir, name="state")
    payload_size = 1 << 20
    t, h, payload = small_torrent("dl.bin", size=payload_size, piece=65536)
    seed_dir = os.path.join(workdir, "seeddata")
    os.makedirs(seed_dir)
    with open(os.path.join(seed_dir, "dl.bin"), "wb") as f:
        f.write(payload)
    seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP)).start()
    seeder.add(t, seed_dir, skip_checking=True)
    seeder.set_prefs({"up_limit": 400 * 1024})   # a few seconds of "downloading"
    leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP)).start()
    restart_with(leecher, {"ut_finish_cmd": uprog + " %N %S %P %I %D %F %L %M",
                           "ut_state_cmd": sprog + " %S %P %N %M"})
    leecher.set_prefs({"autorun_enabled": True, "autorun_program": prog + " %N %F %I"})
    leecher.add(t, leecher.save_path, category="cat1")
    leecher.add_peers(h, [seeder.peer_addr])
    leecher.wait_complete(h, 60, procs=[seeder])
    wait_until(lambda: records(out) and records(uout), 20, "finish programs ran", procs=[leecher])
    fin = records(out)
    assert [r["argv"] for r in fin] == [["dl.bin", os.path.join(leecher.save_path, "dl.bin"), h]]
    ufin = records(uout)
    assert len(ufin) == 1
    a = ufin[0]["argv"]
    assert a[0] == "dl.bin" and a[1] == "5" and a[2] == "6" and a[3] == h.upper()
    assert a[4] == leecher.save_path and a[5] == "dl.bin" and a[6] == "cat1" and a[7] == "Seeding"
    wait_until(lambda: any(r["argv"][:2] == ["5", "6"] for r in records(sout)), 20, "state_cmd 6 -> 5")
    # Stop it: seeding -> finished (11); the finish programs do not run again.
    leecher.post("/api/v2/torrents/stop", hashes=h)
    wait_until(lambda: any(r["argv"][:2] == ["11", "5"] for r in records(sout)), 20, "state_cmd 5 -> 11")
    seq = [tuple(r["argv"][:2]) for r in records(sout)]
    print("state_cmd (S, P):", seq)
    assert ("5", "6") in seq and seq.index(("5", "6")) < seq.index(("11", "5"))
    for s_, p_ in seq:
        assert s_ != p_
    for k in range(1, len(seq)):
        assert seq[k][1] == seq[k - 1][0], seq   # each %P is the previous %S
    assert all(r["argv"][2] == "dl.bin" for r in records(sout))
    assert len(records(out)) == 1 and len(records(uout)) == 1
