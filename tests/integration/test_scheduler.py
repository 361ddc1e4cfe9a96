"""The alternative-speed scheduler (core/scheduler.h) under a clock the test
controls: TORRENTD_TEST_CLOCK_FILE holds the seconds added to the daemon's
wall clock for the scheduler, and the daemon logs each new value it reads
("test clock: ..."), so the test puts the daemon a few seconds before a
boundary and waits for the real flip: seconds, not minutes.  TZ=UTC makes
the daemon's local time the test's.

  * use_alt_speed_limits turns on at the from minute and off at the to
    minute, in sync/maindata (full and incremental) and transfer/speedLimitsMode;
  * a window across midnight stays on over midnight and ends at the to minute;
  * weekdays, weekends and single days (scheduler_days 1, 2, 3..9), and a
    day change at midnight switching a weekend window on;
  * a manual toggle holds until the rule's answer changes again (qBittorrent's
    BandwidthScheduler emits only on a change), then the schedule rules again;
  * the start applies the rule at once, over the stored mode; turning the
    scheduler off stops the switching.
"""
import datetime
import os
import time

import pytest

from conftest import MINI_IP
from tdlib import Torrentd, wait_until

UTC = datetime.timezone.utc
MON = datetime.datetime(2026, 12, 7, tzinfo=UTC)   # a Monday
DAY = datetime.timedelta(days=1)


def at(day, h, m, s=0):
    return day + datetime.timedelta(hours=h, minutes=m, seconds=s)


class Clock:
    """The daemon's scheduler clock: real time plus the offset in the file."""

    def __init__(self, path):
        self.path = path
        self.offset = 0.0
        self.write(0.0)

    def write(self, off):
        self.offset = float("%.3f" % off)
        with open(self.path, "w") as f:   # in place: the daemon watches this inode
            f.write("%.3f\n" % self.offset)

    def now(self):
        return datetime.datetime.fromtimestamp(time.time() + self.offset, UTC)

    def set(self, td, when):
        """Moves the daemon's clock to `when` and waits until it read it."""
        old = self.offset
        self.write(when.timestamp() - time.time())
        if self.offset == old:
            return
        needle = "scheduler time is the wall clock %+.3f s" % self.offset
        wait_until(lambda: any(needle in e["message"] for e in td.get("/api/v2/log/main").json()),
                   15, "the daemon to read the test clock", procs=[td])


@pytest.fixture
def sched(procs, workdir, monkeypatch):
    clock = Clock(os.path.join(workdir, "clock"))
    monkeypatch.setenv("TORRENTD_TEST_CLOCK_FILE", clock.path)
    monkeypatch.setenv("TZ", "UTC")
    td = procs.add(Torrentd(os.path.join(workdir, "td"), MINI_IP)).start()
    return td, clock


def maindata(td, rid=0):
    return td.get("/api/v2/sync/maindata", rid=str(rid)).json()


def alt(td):
    return maindata(td)["server_state"]["use_alt_speed_limits"]


def mode(td):
    return td.get("/api/v2/transfer/speedLimitsMode").text


def schedule(td, frm, to, days=0, enabled=True):
    td.set_prefs({"scheduler_enabled": enabled, "schedule_from_hour": frm[0], "schedule_from_min": frm[1],
                  "schedule_to_hour": to[0], "schedule_to_min": to[1], "scheduler_days": days})


def wait_alt(td, clock, value, not_before):
    """Waits for use_alt_speed_limits == value; it must not come before the
    daemon's clock reached not_before."""
    wait_until(lambda: alt(td) == value, 20, "use_alt_speed_limits %s" % value, procs=[td])
    assert clock.now() >= not_before, "switched at %s, before %s" % (clock.now(), not_before)
    assert mode(td) == ("1" if value else "0")


def holds(td, clock, value, until):
    """use_alt_speed_limits stays `value` until the daemon's clock passed `until`."""
    def check():
        assert alt(td) == value
        return clock.now() >= until
    wait_until(check, 20, "the clock to pass %s" % until, procs=[td])
    assert alt(td) == value


def test_on_at_from_minute_off_at_to_minute(sched):
    td, clock = sched
    clock.set(td, at(MON, 9, 0))
    schedule(td, (10, 0), (10, 1))
    assert alt(td) is False and mode(td) == "0"
    rid = maindata(td)["rid"]
    clock.set(td, at(MON, 9, 59, 56))
    assert clock.now() < at(MON, 10, 0)
    assert alt(td) is False
    wait_alt(td, clock, True, at(MON, 10, 0))
    # incremental sync/maindata carries the change too
    diff = maindata(td, rid)
    assert diff["server_state"]["use_alt_speed_limits"] is True
    p = td.prefs()
    assert (p["scheduler_enabled"], p["schedule_from_hour"], p["schedule_to_min"]) == (True, 10, 1)
    clock.set(td, at(MON, 10, 0, 57))
    assert alt(td) is True
    rid = maindata(td)["rid"]
    wait_alt(td, clock, False, at(MON, 10, 1))
    assert maindata(td, rid)["server_state"]["use_alt_speed_limits"] is False


def test_across_midnight(sched):
    td, clock = sched
    schedule(td, (22, 0), (6, 0))
    clock.set(td, at(MON, 21, 59, 57))
    assert alt(td) is False
    wait_alt(td, clock, True, at(MON, 22, 0))
    clock.set(td, at(MON, 23, 59, 58))
    holds(td, clock, True, at(MON + DAY, 0, 0, 1))
    clock.set(td, at(MON + DAY, 5, 59, 57))
    assert alt(td) is True
    wait_alt(td, clock, False, at(MON + DAY, 6, 0))


def test_days(sched):
    td, clock = sched
    sat, sun, fri = MON + 5 * DAY, MON + 6 * DAY, MON + 4 * DAY
    clock.set(td, at(MON, 10, 30))
    schedule(td, (10, 0), (11, 0), days=1)          # weekdays
    assert alt(td) is True
    clock.set(td, at(sat, 10, 30))
    wait_until(lambda: alt(td) is False, 10, "weekday window off on Saturday", procs=[td])
    td.set_prefs({"scheduler_days": 2})             # weekends
    assert alt(td) is True
    td.set_prefs({"scheduler_days": 8})             # Saturday
    assert alt(td) is True
    td.set_prefs({"scheduler_days": 9})             # Sunday
    assert alt(td) is False
    clock.set(td, at(sun, 10, 30))
    wait_until(lambda: alt(td) is True, 10, "Sunday window on on Sunday", procs=[td])
    td.set_prefs({"scheduler_days": 3})             # Monday
    assert alt(td) is False
    # at midnight Friday -> Saturday a weekend window opens
    td.set_prefs({"scheduler_days": 2, "schedule_from_hour": 0, "schedule_from_min": 0,
                  "schedule_to_hour": 12, "schedule_to_min": 0})
    clock.set(td, at(fri, 23, 59, 57))
    assert alt(td) is False
    wait_alt(td, clock, True, at(sat, 0, 0))
    # from == to is never on (qBittorrent)
    td.set_prefs({"schedule_from_hour": 0, "schedule_from_min": 0, "schedule_to_hour": 0, "schedule_to_min": 0})
    assert alt(td) is False


def test_manual_toggle_held_until_next_boundary(sched):
    td, clock = sched
    clock.set(td, at(MON, 10, 30))
    schedule(td, (10, 0), (11, 0))
    assert alt(td) is True
    td.post("/api/v2/transfer/toggleSpeedLimitsMode")
    assert alt(td) is False and mode(td) == "0"
    # re-evaluations that do not change the rule's answer leave it alone
    clock.set(td, at(MON, 10, 45))
    assert alt(td) is False
    td.set_prefs({"schedule_to_min": 30})            # 10:00-11:30: still inside
    assert alt(td) is False
    clock.set(td, at(MON, 10, 59, 58))
    holds(td, clock, False, at(MON, 11, 0, 1))
    # the window's end (11:30) is the next boundary: off, as the toggle was
    clock.set(td, at(MON, 11, 29, 57))
    holds(td, clock, False, at(MON, 11, 30, 1))
    # and the one after switches on again
    clock.set(td, at(MON + DAY, 9, 59, 57))
    assert alt(td) is False
    wait_alt(td, clock, True, at(MON + DAY, 10, 0))
    # a manual "on" outside the window holds the same way
    clock.set(td, at(MON + DAY, 11, 29, 57))
    wait_alt(td, clock, False, at(MON + DAY, 11, 30))
    td.post("/api/v2/transfer/toggleSpeedLimitsMode")
    assert alt(td) is True
    clock.set(td, at(MON + DAY, 15, 0))
    assert alt(td) is True


def test_start_applies_and_off_stops(sched):
    td, clock = sched
    clock.set(td, at(MON, 12, 0))
    schedule(td, (10, 0), (11, 0))
    assert alt(td) is False
    td.post("/api/v2/transfer/toggleSpeedLimitsMode")
    assert alt(td) is True                            # held: no boundary
    td.stop()
    td.start()                                        # the clock file still says Monday noon
    assert alt(td) is False and mode(td) == "0"       # the start applies the rule
    # turned off, the scheduler switches nothing at the boundary
    td.set_prefs({"scheduler_enabled": False})
    clock.set(td, at(MON + DAY, 9, 59, 58))
    holds(td, clock, False, at(MON + DAY, 10, 0, 2))
    # turned on again, it applies the rule at once
    td.set_prefs({"scheduler_enabled": True})
    assert alt(td) is True
