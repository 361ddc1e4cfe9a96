"""The suite runs in a private network namespace with no route out.

conftest.pytest_sessionstart already refuses to run otherwise; this test makes
the guarantee visible in the report and checks the loopback set-up the swarm
tests rely on (several 127.0.0.x addresses bindable).
"""
import errno
import socket

import pytest

from tdlib import netns_isolated


def test_no_route_out():
    assert netns_isolated()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        with pytest.raises(OSError) as e:
            s.sendto(b"x", ("192.0.2.1", 9))
        assert e.value.errno == errno.ENETUNREACH
    finally:
        s.close()


@pytest.mark.parametrize("ip", ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"])
def test_loopback_addresses_bindable(ip):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((ip, 0))
    finally:
        s.close()
