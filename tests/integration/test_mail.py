"""E-mail notifications over SMTP: app/sendTestEmail, and a message when a
torrent finishes downloading (mail_notification_enabled)."""
import hashlib
import os
import threading
import warnings

from conftest import LEECH_IP, SEED_IP
from tdlib import Torrentd, make_torrent, wait_until

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import asyncore
    import smtpd


class _Sink(smtpd.SMTPServer):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.messages = []

    def process_message(self, peer, mailfrom, rcpttos, data, **kw):
        self.messages.append((mailfrom, rcpttos, data.decode(errors="replace")))


def _smtp():
    sink = _Sink(("127.0.0.1", 0), None, decode_data=False)
    t = threading.Thread(target=asyncore.loop, kwargs={"timeout": 0.1, "count": 600}, daemon=True)
    t.start()
    return sink


def test_mail_notifications(workdir, procs):
    sink = _smtp()
    port = sink.socket.getsockname()[1]
    try:
        mail = {"mail_notification_enabled": True, "mail_notification_smtp": "127.0.0.1:%d" % port,
                "mail_notification_sender": "torrentd@example.test",
                "mail_notification_email": "user@example.test",
                "mail_notification_ssl_enabled": False, "mail_notification_auth_enabled": False}
        leecher = procs.add(Torrentd(os.path.join(workdir, "leech"), LEECH_IP)).start()
        leecher.set_prefs(mail)
        leecher.post("/api/v2/app/sendTestEmail")
        wait_until(lambda: sink.messages, 10, "the test e-mail")
        mailfrom, rcpt, data = sink.messages[0]
        assert mailfrom == "torrentd@example.test" and rcpt == ["user@example.test"]
        assert "Subject: [torrentd] Test email" in data

        payload = os.urandom(100000)
        d = os.path.join(workdir, "data")
        os.makedirs(d)
        with open(os.path.join(d, "m.bin"), "wb") as f:
            f.write(payload)
        info = {"name": "m.bin", "length": len(payload), "piece length": 16384,
                "pieces": b"".join(hashlib.sha1(payload[k:k + 16384]).digest()
                                   for k in range(0, len(payload), 16384))}
        tbytes, h = make_torrent(info)
        seeder = procs.add(Torrentd(os.path.join(workdir, "seed"), SEED_IP)).start()
        seeder.add(tbytes, d, skip_checking=True)
        leecher.add(tbytes, leecher.save_path)
        leecher.add_peers(h, [seeder.peer_addr])
        wait_until(lambda: len(sink.messages) >= 2, 30, "the finished e-mail", procs=[seeder, leecher])
        assert "'m.bin' has finished downloading" in sink.messages[1][2]
        assert len(sink.messages) == 2, "the seeder (mail off) sent nothing"
    finally:
        sink.close()
