"""Helpers for datasets on disk: atomic writes, checksums, downloads with verification."""
import contextlib
import gzip
import hashlib
import os
import secrets
import shutil
import socket
import urllib.error
import urllib.request
import zlib

USER_AGENT = "ember/vision"
_CHUNK = 1 << 20


class IntegrityError(RuntimeError):
    """Downloaded or extracted data failed a checksum, size or layout check."""


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """Write to a temporary file in the target's folder, then os.replace it into place.

    A crash or an exception part way leaves no file under the final name (and removes the temporary one),
    so a later run never trusts half a file.
    """
    path = os.fspath(path)
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    while True:  # like mkstemp, but with the usual 0o666 & ~umask permissions of a new file
        tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.part")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def file_digest(path, algorithm="md5"):
    h = hashlib.new(algorithm, usedforsecurity=False) if algorithm == "md5" else hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def calculate_md5(path):
    return file_digest(path, "md5")


def check_md5(path, md5):
    return calculate_md5(path) == md5


def check_integrity(path, md5=None):
    """torchvision's check_integrity: the file exists and, when md5 is given, matches it."""
    if not os.path.isfile(path):
        return False
    return md5 is None or check_md5(path, md5)


class MirrorUnreachable(OSError):
    """The server could not be reached at all (no name resolution, refused, timed out)."""


def download_url(url, path, md5=None, timeout=10.0):
    """Fetch url into path atomically, verifying its MD5 when given. Returns path.

    Raises MirrorUnreachable when the host can't be reached, IntegrityError on a checksum mismatch, and
    urllib.error.HTTPError / OSError for other failures. Nothing is left under path unless it verified.
    """
    path = os.fspath(path)
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError:
        raise
    except urllib.error.URLError as e:
        raise MirrorUnreachable(f"{e.reason}") from e
    except (socket.timeout, TimeoutError, ConnectionError) as e:
        raise MirrorUnreachable(f"{type(e).__name__}: {e}") from e
    h = hashlib.md5(usedforsecurity=False)
    with resp, atomic_write(path) as f:
        try:
            for chunk in iter(lambda: resp.read(_CHUNK), b""):
                h.update(chunk)
                f.write(chunk)
        except (socket.timeout, TimeoutError) as e:
            raise MirrorUnreachable(f"timed out while reading: {e}") from e
        if md5 is not None and h.hexdigest() != md5:
            raise IntegrityError(f"MD5 mismatch for {url}: expected {md5}, got {h.hexdigest()}")
    return path


def extract_gzip(src, dst):
    """Decompress a .gz file into dst atomically."""
    try:
        with gzip.open(src, "rb") as fin, atomic_write(dst) as fout:
            shutil.copyfileobj(fin, fout, _CHUNK)
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise IntegrityError(f"corrupt gzip file {src}: {e}") from e
    return dst


def default_cache_dir():
    """Where ember keeps downloads worth reusing: $EMBER_CACHE_DIR, else $XDG_CACHE_HOME/ember, else
    ~/.cache/ember."""
    env = os.environ.get("EMBER_CACHE_DIR")
    if env:
        return os.path.expanduser(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return os.path.join(os.path.expanduser(xdg) if xdg else os.path.join(os.path.expanduser("~"), ".cache"),
                        "ember")
