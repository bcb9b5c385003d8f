"""ember.vision.io and ember.vision.utils against Pillow and hand-computed grids (torchvision is not installable:
its make_grid layout, save_image rounding and ImageReadMode conversions are pinned from its source)."""
import numpy as np
import pytest
from PIL import Image

import ember
from ember.vision import io as vio
from ember.vision import utils as vutils


def _rgb(h=5, w=7, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


# ------------------------------------------------------------------ make_grid / save_image

def test_make_grid_layout_by_hand():
    imgs = ember.tensor(np.arange(5 * 3 * 2 * 2, dtype=np.float32).reshape(5, 3, 2, 2))
    grid = vutils.make_grid(imgs, nrow=3, padding=1, pad_value=-1)
    assert tuple(grid.shape) == (3, 2 * 3 + 1, 3 * 3 + 1)
    g = grid.numpy()
    a = imgs.numpy()
    np.testing.assert_array_equal(g[:, 1:3, 1:3], a[0])
    np.testing.assert_array_equal(g[:, 1:3, 4:6], a[1])
    np.testing.assert_array_equal(g[:, 1:3, 7:9], a[2])
    np.testing.assert_array_equal(g[:, 4:6, 1:3], a[3])
    np.testing.assert_array_equal(g[:, 4:6, 4:6], a[4])
    assert (g[:, 4:6, 7:9] == -1).all() and (g[:, 0, :] == -1).all() and (g[:, :, 3] == -1).all()


def test_make_grid_gray_single_list_and_normalize():
    one = ember.tensor(np.full((1, 4, 4), 0.25, np.float32))
    out = vutils.make_grid(one)
    assert tuple(out.shape) == (3, 4, 4)  # a single gray image comes back as RGB, no padding
    batch = ember.tensor(np.random.default_rng(0).standard_normal((3, 1, 4, 4)).astype(np.float32))
    g = vutils.make_grid(batch, padding=0, normalize=True)
    assert tuple(g.shape) == (3, 4, 12) and abs(g.numpy().min()) < 1e-6 and abs(g.numpy().max() - 1) < 1e-6
    g = vutils.make_grid(list(batch), padding=0, normalize=True, value_range=(0.0, 1.0))
    want = np.clip(batch.numpy(), 0, 1)
    np.testing.assert_allclose(g.numpy()[0, :, 4:8], want[1, 0], atol=1e-6)
    each = vutils.make_grid(batch, padding=0, normalize=True, scale_each=True).numpy()
    for k in range(3):
        tile = each[0, :, 4 * k:4 * k + 4]
        assert abs(tile.min()) < 1e-6 and abs(tile.max() - 1) < 1e-6
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        vutils.make_grid(batch, normalize=True, value_range=[0, 1])
    with pytest.raises(TypeError, match="tensor or list of tensors expected, got <class 'numpy.ndarray'>"):
        vutils.make_grid(np.zeros((2, 3, 4, 4)))
    with pytest.raises(TypeError, match="got a list containing <class 'int'>"):
        vutils.make_grid([batch[0], 3])


def test_save_image_rounds_as_torchvision(tmp_path):
    x = np.random.default_rng(1).random((2, 3, 4, 5)).astype(np.float32)
    path = tmp_path / "grid.png"
    vutils.save_image(ember.tensor(x), str(path), nrow=2, padding=1)
    got = np.asarray(Image.open(path))
    grid = vutils.make_grid(ember.tensor(x), nrow=2, padding=1).numpy()
    want = np.clip(grid * np.float32(255) + np.float32(0.5), 0, 255).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(got, want)
    assert got.shape == (4 + 2, 2 * 5 + 3, 3) and got[0, 0].tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="unknown file extension"):
        vutils.save_image(ember.tensor(x), str(tmp_path / "noext"))


# ------------------------------------------------------------------ io

@pytest.mark.parametrize("pil_mode,channels", [("L", 1), ("LA", 2), ("RGB", 3), ("RGBA", 4)])
def test_read_image_unchanged_matches_pil(tmp_path, pil_mode, channels):
    img = Image.fromarray(_rgb()).convert(pil_mode)
    path = tmp_path / "a.png"
    img.save(path)
    t = vio.read_image(str(path))
    assert t.dtype == ember.uint8 and tuple(t.shape) == (channels, 5, 7)
    want = np.asarray(img).reshape(5, 7, channels).transpose(2, 0, 1)
    np.testing.assert_array_equal(t.numpy(), want)


def test_read_modes_palette_and_jpeg(tmp_path):
    rgb = _rgb(6, 4)
    Image.fromarray(rgb).save(tmp_path / "a.png")
    t = vio.read_image(tmp_path / "a.png", mode=vio.ImageReadMode.GRAY)
    np.testing.assert_array_equal(t.numpy()[0], np.asarray(Image.fromarray(rgb).convert("L")))
    t = vio.read_image(str(tmp_path / "a.png"), mode=vio.ImageReadMode.RGB_ALPHA)
    assert tuple(t.shape) == (4, 6, 4) and (t.numpy()[3] == 255).all()
    assert vio.ImageReadMode.RGBA is vio.ImageReadMode.RGB_ALPHA
    np.testing.assert_array_equal(vio.read_image(str(tmp_path / "a.png"), mode="RGB").numpy(), rgb.transpose(2, 0, 1))
    Image.fromarray(rgb).convert("P").save(tmp_path / "p.png")
    t = vio.read_image(str(tmp_path / "p.png"))
    np.testing.assert_array_equal(t.numpy(), np.asarray(Image.open(tmp_path / "p.png").convert("RGB")).transpose(2, 0, 1))
    Image.fromarray(rgb).save(tmp_path / "a.jpg", quality=90)
    data = vio.read_file(str(tmp_path / "a.jpg"))
    assert data.dtype == ember.uint8 and data.ndim == 1 and data.numel() == (tmp_path / "a.jpg").stat().st_size
    for decoded in (vio.decode_image(data), vio.decode_jpeg(data), vio.decode_image(str(tmp_path / "a.jpg"))):
        np.testing.assert_array_equal(decoded.numpy(), np.asarray(Image.open(tmp_path / "a.jpg")).transpose(2, 0, 1))


def test_write_png_round_trip_and_encoders(tmp_path):
    x = ember.tensor(_rgb(3, 8).transpose(2, 0, 1).copy())
    vio.write_png(x, str(tmp_path / "o.png"), compression_level=9)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "o.png")), x.numpy().transpose(1, 2, 0))
    enc = vio.encode_png(x[:1])
    np.testing.assert_array_equal(vio.decode_png(enc).numpy(), x.numpy()[:1])
    vio.write_jpeg(x, str(tmp_path / "o.jpg"), quality=95)
    Image.fromarray(x.numpy().transpose(1, 2, 0)).save(tmp_path / "pil.jpg", quality=95)
    assert (tmp_path / "o.jpg").read_bytes() == (tmp_path / "pil.jpg").read_bytes()
    vio.write_file(str(tmp_path / "copy.png"), vio.read_file(str(tmp_path / "o.png")))
    assert (tmp_path / "copy.png").read_bytes() == (tmp_path / "o.png").read_bytes()


def test_io_bad_input(tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    with pytest.raises(RuntimeError, match="broken.png"):
        vio.read_image(str(bad))
    with pytest.raises(RuntimeError, match=r"No such file or directory: '.*missing.png'"):
        vio.read_image(str(tmp_path / "missing.png"))
    with pytest.raises(RuntimeError, match="Input tensor dtype should be uint8"):
        vio.write_png(ember.zeros(3, 4, 4), str(tmp_path / "f.png"))
    with pytest.raises(RuntimeError, match="number of channels should be 1 or 2 or 3 or 4, got: 5"):
        vio.encode_png(ember.zeros(5, 4, 4, dtype=ember.uint8))
    with pytest.raises(RuntimeError, match="Compression level should be between 0 and 9, got 10"):
        vio.encode_png(ember.zeros(3, 4, 4, dtype=ember.uint8), compression_level=10)
    with pytest.raises(ValueError, match="Unknown image mode 'CMY'"):
        vio.decode_image(vio.read_file(str(bad)), mode="CMY")
    assert not (tmp_path / "f.png").exists()
