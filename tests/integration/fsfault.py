"""File systems that fill up, fail and vanish, for the disk tests.

Real faults, not injected ones: scripts/netns-run.sh runs the suite in a
private mount namespace, where (as root) a test can mount
  * a small tmpfs: writes past its size fail with ENOSPC;
  * an ext4 image on a loop device, which can be shut down the way xfstests'
    `godown` does (EXT4_IOC_SHUTDOWN): with NOLOGFLUSH the dirty page cache
    and the unflushed journal are thrown away, exactly what a power cut
    loses; after any shutdown every read, write and fsync on it fails with
    EIO until it is mounted again.
Unmounting one while a daemon uses it is a save path that disappears.
Nothing here is visible outside the namespace; what a test leaves mounted
goes away with it (loop devices are mounted with autoclear).
"""
import fcntl
import os
import struct
import subprocess

import pytest

EXT4_IOC_SHUTDOWN = 0x8004587D          # _IOR('X', 125, __u32)
GOING_FLAGS_LOGFLUSH = 1                 # journal flushed, dirty data lost
GOING_FLAGS_NOLOGFLUSH = 2               # nothing flushed: a power cut


def private_mounts():
    """True iff we may mount: root, in the private mount namespace that
    scripts/netns-run.sh made (it exports its name as TD_MOUNT_NS)."""
    if os.geteuid() != 0 or not os.environ.get("TD_MOUNT_NS"):
        return False
    try:
        return os.readlink("/proc/self/ns/mnt") == os.environ["TD_MOUNT_NS"]
    except OSError:
        return False


def require_private_mounts():
    if not private_mounts():
        pytest.skip("needs root in a private mount namespace (scripts/netns-run.sh)")


def _run(*argv):
    subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


class Mount:
    def __init__(self, path):
        self.path = path
        self.mounted = False

    def umount(self, lazy=False):
        if self.mounted:
            _run("umount", *(["-l"] if lazy else []), self.path)
            self.mounted = False

    def close(self):
        try:
            self.umount()
        except subprocess.CalledProcessError:
            self.umount(lazy=True)


class Tmpfs(Mount):
    def __init__(self, path, size):
        super().__init__(path)
        os.makedirs(path, exist_ok=True)
        _run("mount", "-t", "tmpfs", "-o", "size=%d,mode=755" % size, "tmpfs", path)
        self.mounted = True

    def free(self):
        st = os.statvfs(self.path)
        return st.f_bavail * st.f_frsize


class Ext4Loop(Mount):
    """An ext4 file system in image (a sparse file of size bytes) on a loop
    device, mounted at path."""

    def __init__(self, path, image, size):
        super().__init__(path)
        self.image = image
        os.makedirs(path, exist_ok=True)
        with open(image, "wb") as f:
            f.truncate(size)
        _run("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", image)
        self.mount()

    def mount(self):
        # A loop device of its own at every mount: `mount -o loop` reuses the
        # one already attached to the image, and while a process in another
        # mount namespace (`ip netns exec`, chromium's sandbox: created while
        # this was mounted, holding a copy of the mount) keeps the old
        # superblock alive, mounting that device again hands back the shut
        # down superblock (EIO) instead of replaying the journal.
        dev = subprocess.run(["losetup", "--find", "--show", self.image], check=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout.strip()
        try:
            # errors=continue: a shutdown stays a shutdown (no remount-ro dance)
            _run("mount", "-o", "errors=continue", dev, self.path)
        except subprocess.CalledProcessError:
            _run("losetup", "-d", dev)
            raise
        self.dev = dev
        self.mounted = True

    def umount(self, lazy=False):
        was = self.mounted
        super().umount(lazy)
        if was:
            # detached now, or when the last copy of the mount goes
            subprocess.run(["losetup", "-d", self.dev], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def shutdown(self, flags=GOING_FLAGS_NOLOGFLUSH):
        fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.ioctl(fd, EXT4_IOC_SHUTDOWN, struct.pack("I", flags))
        finally:
            os.close(fd)

    def remount(self):
        """Unmount (after a shutdown: nothing more reaches the image) and
        mount again: the journal is replayed, as at boot after a cut."""
        self.umount()
        self.mount()
