#!/usr/bin/python3
"""A fault-injecting FUSE file system for the power-loss drill: the model LazyFS uses.

    lazyfs.py BACKING MOUNTPOINT CONTROL_SOCKET

The mount shows BACKING/live, passed through. Beside it the layer keeps what a disk would still hold
after a power cut, in BACKING/durable:

    data/<id>    the durable bytes of file <id> (ids are ours: inode numbers are reused)
    state.json   the durable namespace: for each directory, name -> id; each node's kind and mode

What becomes durable, and when (the strict POSIX reading; ext4 promises more, SD cards and FAT less):

    write, truncate          volatile: recorded as dirty ranges of the file
    fsync / fdatasync(file)  the file's data (its dirty ranges, its size) and mode become durable;
                             NOT its name: a new file also needs an fsync of its directory
    create, mkdir, rename,   volatile: the directory's durable entries change only when that directory
    link, unlink, rmdir      is fsynced, and then to exactly what it lists at that moment
    fsync(directory)         the directory's entries (name -> id) become durable; a new entry for a file
                             whose data was never fsynced comes back empty, a new subdirectory empty

So at a cut every un-fsynced directory operation is discarded (a rename without a directory fsync is
undone; a file created and fsynced but whose directory was not is gone), and every file keeps the data
of its last fsync. A directory reachable under two durable names (renamed, only one parent fsynced)
comes back under the first name found.

Commands on CONTROL_SOCKET (a Unix socket; one line in, one line out):

    cut     power cut: the durable state is frozen and written out; from then on every operation but
            close fails with EIO, as on a machine that has lost power. Unmount next: the next mount
            boots from the durable state.
    sync    sync(2): every file and directory becomes durable as it is now
    stats   counters, as JSON

Unmounting without a cut is a clean shutdown: everything is synced first. Mounting rebuilds
BACKING/live from BACKING/durable (a first mount takes BACKING/live as it is, all durable).

A Python layer's signal handlers do not run inside fuse_main, hence the socket, served by a thread.
No direct_io: SQLite's WAL mmaps the -shm file, which needs the kernel page cache (with direct_io the
mmap fails with SQLITE_IOERR_SHMMAP). The cache is dropped with the mount, so a cut is always followed
by an unmount.
"""

import errno
import json
import os
import shutil
import socketserver
import stat
import sys
import threading

from fusepy import FUSE, FuseOSError, Operations

# Operations that still work after a cut: the kernel closes the files of the killed processes.
AFTER_CUT = {'release', 'releasedir', 'flush', 'destroy', 'init', 'getattr', 'statfs', 'access'}


class Dirty:
    """The volatile part of one file: written ranges and the lowest size it was truncated to."""

    __slots__ = ('ranges', 'trunc_min')

    def __init__(self):
        self.ranges = []
        self.trunc_min = None

    def add(self, start, end):
        ranges = self.ranges
        # SQLite writes pages in order: extending the last range keeps the list short.
        if ranges and ranges[-1][0] <= start <= ranges[-1][1]:
            if end > ranges[-1][1]:
                ranges[-1] = (ranges[-1][0], end)
            return
        ranges.append((start, end))
        if len(ranges) > 4096:
            self.ranges = merged(ranges)

    def truncated(self, size):
        self.trunc_min = size if self.trunc_min is None else min(self.trunc_min, size)


def merged(ranges):
    out = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


class LazyFs(Operations):
    use_ns = True

    def __init__(self, backing):
        self.live = os.path.join(backing, 'live')
        self.durable = os.path.join(backing, 'durable')
        self.data = os.path.join(self.durable, 'data')
        self.state_file = os.path.join(self.durable, 'state.json')
        self.mutex = threading.RLock()
        self.frozen = False
        self.ino_id = {}  # live inode number -> id
        self.fh_id = {}  # open backing fd -> id
        self.dirty = {}  # id -> Dirty
        self.nodes = {}  # id -> {'kind': 'd'|'f'|'l', 'mode': int, 'entries': {...} | 'target': str}
        self.root = 0
        self.next_id = 1
        self.counters = {'fsync': 0, 'fsyncdir': 0, 'bytes_synced': 0, 'writes': 0, 'cuts': 0}
        os.makedirs(self.data, exist_ok=True)
        if os.path.exists(self.state_file):
            self._boot()
        else:
            os.makedirs(self.live, exist_ok=True)
            self._adopt_live()

    # --- boot -------------------------------------------------------------------------------------

    def _boot(self):
        """Rebuilds the live tree from the durable state: what the disk holds after power comes back."""
        with open(self.state_file) as f:
            state = json.load(f)
        self.nodes = {int(k): v for k, v in state['nodes'].items()}
        for node in self.nodes.values():
            if node['kind'] == 'd':
                node['entries'] = {name: int(i) for name, i in node['entries'].items()}
        self.root = int(state['root'])
        self.next_id = int(state['next_id'])
        rebuild = self.live + '.rebuild'
        shutil.rmtree(rebuild, ignore_errors=True)
        built = {}  # id -> path

        def build(node_id, path):
            node = self.nodes.get(node_id)
            if node is None:
                return
            kind = node['kind']
            if kind == 'd':
                if node_id in built:
                    return  # a second durable name of one directory: keep the first
                os.mkdir(path)
                built[node_id] = path
                for name, child in sorted(node['entries'].items()):
                    build(child, os.path.join(path, name))
                os.chmod(path, node['mode'])
            elif kind == 'f':
                if node_id in built:
                    os.link(built[node_id], path)
                    return
                source = os.path.join(self.data, str(node_id))
                if os.path.exists(source):
                    shutil.copyfile(source, path)
                else:
                    open(path, 'wb').close()
                os.chmod(path, node['mode'])
                built[node_id] = path
            elif kind == 'l':
                os.symlink(node['target'], path)
                built[node_id] = path

        build(self.root, rebuild)
        shutil.rmtree(self.live, ignore_errors=True)
        os.rename(rebuild, self.live)
        live_paths = {i: self.live + p[len(rebuild):] for i, p in built.items()}
        # Forget what did not survive; map the new inodes to the surviving ids.
        self.nodes = {i: n for i, n in self.nodes.items() if i in live_paths}
        for name in os.listdir(self.data):
            if int(name) not in self.nodes or self.nodes[int(name)]['kind'] != 'f':
                os.unlink(os.path.join(self.data, name))
        for node_id, path in live_paths.items():
            self.ino_id[os.lstat(path).st_ino] = node_id
        for node in self.nodes.values():
            if node['kind'] == 'd':
                node['entries'] = {n: i for n, i in node['entries'].items() if i in self.nodes}

    def _adopt_live(self):
        """First mount: BACKING/live as it is becomes the durable state."""
        st = os.lstat(self.live)
        self.root = self._id_of(st.st_ino)
        self.nodes[self.root] = {'kind': 'd', 'mode': stat.S_IMODE(st.st_mode), 'entries': {}}
        self._sync_all()
        self._write_state()

    # --- durable state ----------------------------------------------------------------------------

    def _id_of(self, ino):
        node_id = self.ino_id.get(ino)
        if node_id is None:
            node_id = self._new_id(ino)
        return node_id

    def _new_id(self, ino):
        node_id = self.next_id
        self.next_id += 1
        self.ino_id[ino] = node_id
        return node_id

    def _sync_file(self, node_id, live_path):
        """Makes the file's live data and mode its durable data (fsync)."""
        target = os.path.join(self.data, str(node_id))
        dirty = self.dirty.pop(node_id, None)
        src = os.open(live_path, os.O_RDONLY)
        try:
            st = os.fstat(src)
            size = st.st_size
            node = self.nodes.setdefault(node_id, {'kind': 'f', 'mode': 0})
            node['mode'] = stat.S_IMODE(st.st_mode)
            if not os.path.exists(target):
                dst = os.open(target, os.O_WRONLY | os.O_CREAT, 0o600)
                ranges = [(0, size)]
            elif dirty is None:
                return
            else:
                dst = os.open(target, os.O_WRONLY)
                if dirty.trunc_min is not None:
                    os.ftruncate(dst, min(dirty.trunc_min, size))
                ranges = merged(dirty.ranges)
            try:
                os.ftruncate(dst, size)
                for start, end in ranges:
                    end = min(end, size)
                    while start < end:
                        chunk = os.pread(src, min(end - start, 1 << 20), start)
                        if not chunk:
                            break
                        os.pwrite(dst, chunk, start)
                        start += len(chunk)
                        self.counters['bytes_synced'] += len(chunk)
            finally:
                os.close(dst)
        finally:
            os.close(src)

    def _sync_dir(self, live_path):
        """Makes the directory's current entries its durable entries (fsync of a directory)."""
        st = os.lstat(live_path)
        dir_id = self._id_of(st.st_ino)
        entries = {}
        with os.scandir(live_path) as it:
            for entry in it:
                child = self._id_of(entry.inode())
                entries[entry.name] = child
                if child in self.nodes:
                    continue
                cst = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(cst.st_mode):
                    self.nodes[child] = {'kind': 'd', 'mode': stat.S_IMODE(cst.st_mode), 'entries': {}}
                elif stat.S_ISLNK(cst.st_mode):
                    self.nodes[child] = {'kind': 'l', 'mode': 0o777, 'target': os.readlink(entry.path)}
                else:
                    self.nodes[child] = {'kind': 'f', 'mode': stat.S_IMODE(cst.st_mode)}
        node = self.nodes.setdefault(dir_id, {'kind': 'd', 'mode': stat.S_IMODE(st.st_mode), 'entries': {}})
        node['mode'] = stat.S_IMODE(st.st_mode)
        node['entries'] = entries

    def _sync_all(self):
        for dirpath, dirnames, filenames in os.walk(self.live):
            self._sync_dir(dirpath)
            for name in filenames:
                path = os.path.join(dirpath, name)
                if not os.path.islink(path):
                    self._sync_file(self._id_of(os.lstat(path).st_ino), path)

    def _write_state(self):
        state = {'root': self.root, 'next_id': self.next_id, 'nodes': self.nodes}
        tmp = self.state_file + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(state, f)
        os.replace(tmp, self.state_file)

    # --- control ----------------------------------------------------------------------------------

    def control(self, command):
        with self.mutex:
            if command == 'cut':
                if not self.frozen:
                    self.frozen = True
                    self.counters['cuts'] += 1
                    self._write_state()
                return 'ok'
            if command == 'sync':
                if self.frozen:
                    return 'error: power is cut'
                self._sync_all()
                return 'ok'
            if command == 'stats':
                return json.dumps({**self.counters, 'frozen': self.frozen, 'dirtyFiles': len(self.dirty)})
        return 'error: unknown command ' + command

    def __call__(self, op, *args):
        if self.frozen and op not in AFTER_CUT:
            raise FuseOSError(errno.EIO)
        return super().__call__(op, *args)

    # --- file system ------------------------------------------------------------------------------

    def _full(self, path):
        return os.path.join(self.live, path.lstrip('/'))

    def init(self, path):
        print('lazyfs: ready', flush=True)

    def destroy(self, path):
        with self.mutex:
            if not self.frozen:  # a clean shutdown syncs everything
                self._sync_all()
                self._write_state()

    def access(self, path, amode):
        if not os.access(self._full(path), amode):
            raise FuseOSError(errno.EACCES)

    def getattr(self, path, fh=None):
        st = os.fstat(fh.fh) if fh else os.lstat(self._full(path))
        return {
            'st_mode': st.st_mode,
            'st_ino': st.st_ino,
            'st_nlink': st.st_nlink,
            'st_uid': st.st_uid,
            'st_gid': st.st_gid,
            'st_size': st.st_size,
            'st_atime': st.st_atime_ns,
            'st_mtime': st.st_mtime_ns,
            'st_ctime': st.st_ctime_ns,
            'st_blocks': st.st_blocks,
        }

    def readdir(self, path, fh):
        return ['.', '..'] + os.listdir(self._full(path))

    def readlink(self, path):
        return os.readlink(self._full(path))

    def statfs(self, path):
        sv = os.statvfs(self.live)
        keys = ('f_bavail', 'f_bfree', 'f_blocks', 'f_bsize', 'f_favail', 'f_ffree', 'f_files', 'f_flag',
                'f_frsize', 'f_namemax')
        return {k: getattr(sv, k) for k in keys}

    def chmod(self, path, mode):
        os.chmod(self._full(path), mode)

    def chown(self, path, uid, gid):
        os.chown(self._full(path), uid, gid)

    def utimens(self, path, times=None):
        if times is None:
            os.utime(self._full(path))
        else:
            os.utime(self._full(path), ns=times)

    def mknod(self, path, mode, dev):
        full = self._full(path)
        os.mknod(full, mode, dev)
        with self.mutex:
            self._new_id(os.lstat(full).st_ino)

    def mkdir(self, path, mode):
        full = self._full(path)
        os.mkdir(full, mode)
        with self.mutex:
            self._new_id(os.lstat(full).st_ino)

    def symlink(self, target, source):
        full = self._full(target)
        os.symlink(source, full)
        with self.mutex:
            self._new_id(os.lstat(full).st_ino)

    def link(self, target, source):
        # fusepy's order: `target` is the new name, `source` the existing file; one inode, one id.
        os.link(self._full(source), self._full(target))

    def rename(self, old, new):
        os.rename(self._full(old), self._full(new))

    def unlink(self, path):
        os.unlink(self._full(path))

    def rmdir(self, path):
        os.rmdir(self._full(path))

    def _open(self, full, flags, mode, fi, created):
        # The kernel gives write offsets itself (O_APPEND included): pwrite exactly there.
        fd = os.open(full, flags & ~(os.O_APPEND | getattr(os, 'O_DIRECT', 0)), mode)
        with self.mutex:
            ino = os.fstat(fd).st_ino
            node_id = self._new_id(ino) if created else self._id_of(ino)
            self.fh_id[fd] = node_id
            if flags & os.O_TRUNC:
                self.dirty.setdefault(node_id, Dirty()).truncated(0)
        fi.fh = fd
        return 0

    def open(self, path, fi):
        return self._open(self._full(path), fi.flags, 0, fi, False)

    def create(self, path, mode, fi):
        full = self._full(path)
        created = not os.path.lexists(full)
        return self._open(full, fi.flags | os.O_CREAT, mode, fi, created)

    def read(self, path, size, offset, fi):
        return os.pread(fi.fh, size, offset)

    def write(self, path, data, offset, fi):
        n = os.pwrite(fi.fh, data, offset)
        with self.mutex:
            node_id = self.fh_id[fi.fh]
            self.dirty.setdefault(node_id, Dirty()).add(offset, offset + n)
            self.counters['writes'] += 1
        return n

    def truncate(self, path, length, fh=None):
        with self.mutex:
            if fh:
                os.ftruncate(fh.fh, length)
                node_id = self.fh_id[fh.fh]
            else:
                full = self._full(path)
                os.truncate(full, length)
                node_id = self._id_of(os.lstat(full).st_ino)
            self.dirty.setdefault(node_id, Dirty()).truncated(length)

    def flush(self, path, fi):
        return 0

    def release(self, path, fi):
        with self.mutex:
            self.fh_id.pop(fi.fh, None)
        os.close(fi.fh)

    def fsync(self, path, datasync, fi):
        with self.mutex:
            if self.frozen:
                raise FuseOSError(errno.EIO)
            self._sync_file(self.fh_id[fi.fh], '/proc/self/fd/%d' % fi.fh)
            self.counters['fsync'] += 1

    def opendir(self, path):
        return 0

    def releasedir(self, path, fh):
        return 0

    def fsyncdir(self, path, datasync, fh):
        with self.mutex:
            if self.frozen:
                raise FuseOSError(errno.EIO)
            self._sync_dir(self._full(path))
            self.counters['fsyncdir'] += 1


class ControlHandler(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            reply = self.server.fs.control(line.decode().strip())
            self.wfile.write((reply + '\n').encode())
            self.wfile.flush()


def main():
    if len(sys.argv) != 4:
        sys.exit('usage: lazyfs.py BACKING MOUNTPOINT CONTROL_SOCKET')
    backing, mountpoint, control_socket = sys.argv[1:]
    fs = LazyFs(os.path.abspath(backing))
    if os.path.exists(control_socket):
        os.unlink(control_socket)
    server = socketserver.ThreadingUnixStreamServer(control_socket, ControlHandler)
    server.daemon_threads = True
    server.fs = fs
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # big_writes: without it libfuse 2 splits every write into 4 KiB requests.
    FUSE(fs, mountpoint, raw_fi=True, foreground=True, nothreads=False, big_writes=True,
         fsname='lazyfs', subtype='lazyfs')
    server.shutdown()
    try:
        os.unlink(control_socket)
    except FileNotFoundError:
        pass


if __name__ == '__main__':
    main()
