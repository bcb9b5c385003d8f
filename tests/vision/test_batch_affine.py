"""The batch affine augmentation of `ember train` (ember/vision/_batch_affine.py): pixels move where the
parameters say, every image gets its own parameters, a seed fixes them, and the resampling agrees with
torch's affine_grid + grid_sample (bilinear, align_corners=True, zeros outside)."""
import numpy as np
import pytest

from ember.vision._batch_affine import affine_batch, random_affine_batch


def dot(h=28, w=28, row=10, col=20):
    x = np.zeros((1, 1, h, w), np.float32)
    x[0, 0, row, col] = 1.0
    return x


def test_shape_dtype_and_identity():
    x = np.random.default_rng(0).standard_normal((5, 2, 28, 28)).astype(np.float32)
    y = affine_batch(x, 0.0, 1.0, (0.0, 0.0))
    assert y.shape == x.shape and y.dtype == np.float32
    np.testing.assert_allclose(y, x, atol=1e-6)


def test_a_shift_moves_the_content_right_and_down():
    y = affine_batch(dot(), 0.0, 1.0, [(3.0, -2.0)])
    assert [tuple(p) for p in np.argwhere(y[0, 0] > 0.5)] == [(8, 23)]  # 2 rows up, 3 columns right
    assert y.sum() == pytest.approx(1.0)
    half = affine_batch(dot(), 0.0, 1.0, [(0.5, 0.0)])  # half a pixel: split between two columns
    np.testing.assert_allclose(half[0, 0, 10, 20:22], [0.5, 0.5], atol=1e-6)


def test_a_positive_angle_turns_counter_clockwise_as_np_rot90():
    x = np.random.default_rng(1).standard_normal((3, 1, 9, 9)).astype(np.float32)
    y = affine_batch(x, 90.0, 1.0, (0.0, 0.0))
    np.testing.assert_allclose(y, np.rot90(x, axes=(2, 3)), atol=1e-5)
    # a dot right of the centre ends above it
    y = affine_batch(dot(5, 5, 2, 4), 90.0, 1.0, (0.0, 0.0))
    assert [tuple(p) for p in np.argwhere(y[0, 0] > 0.5)] == [(0, 2)]


def test_scale_is_about_the_centre():
    # centre of a 9x9 image is (4, 4); a dot 2 columns right of it goes 4 columns right at scale 2
    y = affine_batch(dot(9, 9, 4, 6), 0.0, 2.0, (0.0, 0.0))
    assert y[0, 0, 4, 8] == pytest.approx(1.0)
    assert y[0, 0, 4, 6] == 0.0


def test_outside_reads_fill_and_each_image_its_own_parameters():
    x = np.full((2, 1, 6, 6), 3.0, np.float32)
    y = affine_batch(x, [0.0, 0.0], [1.0, 1.0], [(0.0, 0.0), (10.0, 0.0)], fill=-1.0)
    np.testing.assert_array_equal(y[0], x[0])
    np.testing.assert_array_equal(y[1], np.full((1, 6, 6), -1.0, np.float32))


def test_agrees_with_torch_grid_sample():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    n, h = 6, 28
    x = rng.standard_normal((n, 1, h, h)).astype(np.float32)
    angles, scales, shifts = rng.uniform(-30, 30, n), rng.uniform(0.8, 1.2, n), rng.uniform(-3, 3, (n, 2))
    got = affine_batch(x, angles, scales, shifts, fill=0.0)
    # the same inverse map in affine_grid's normalised coordinates (align_corners=True: -1 and 1 are the
    # centres of the border pixels, so the unit is (h-1)/2 pixels)
    c, s = np.cos(np.deg2rad(angles)), np.sin(np.deg2rad(angles))
    a = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], 1) / scales[:, None, None]
    b = -np.einsum("nij,nj->ni", a, shifts / ((h - 1) / 2))
    theta = torch.from_numpy(np.concatenate([a, b[:, :, None]], 2))
    grid = torch.nn.functional.affine_grid(theta, (n, 1, h, h), align_corners=True)
    want = torch.nn.functional.grid_sample(torch.from_numpy(x).double(), grid, mode="bilinear",
                                           padding_mode="zeros", align_corners=True).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_random_parameters_follow_the_seed_and_the_ranges():
    x = np.random.default_rng(3).random((8, 1, 28, 28)).astype(np.float32)
    a = random_affine_batch(x, np.random.default_rng(7))
    b = random_affine_batch(x, np.random.default_rng(7))
    c = random_affine_batch(x, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.allclose(a, x, atol=1e-3)  # it did move the pixels
    # nothing to draw: the identity
    np.testing.assert_allclose(random_affine_batch(x, np.random.default_rng(7), degrees=0, translate=0,
                                                   scale=(1, 1)), x, atol=1e-6)
    # shifts only, of at most 2 pixels: a dot stays within 2 pixels of where it was, in every image
    d = np.repeat(dot(), 50, axis=0)
    moved = random_affine_batch(d, np.random.default_rng(9), degrees=0, scale=(1, 1), translate=2.0)
    rows, cols = np.nonzero(moved[:, 0] > 1e-6)[1:]
    assert np.abs(rows - 10).max() <= 2 and np.abs(cols - 20).max() <= 2
    assert len({tuple(np.argwhere(m[0] == m[0].max())[0]) for m in moved}) > 10  # each image its own shift
    # scale only, and angle only: each image its own too (the dot sits 6.5 columns right of the centre)
    scaled = random_affine_batch(d, np.random.default_rng(9), degrees=0, translate=0, scale=(0.6, 1.4))
    assert len({int(np.argmax(m[0].sum(0))) for m in scaled}) > 4
    turned = random_affine_batch(d, np.random.default_rng(9), degrees=40, translate=0, scale=(1, 1))
    assert len({int(np.argmax(m[0].sum(1))) for m in turned}) > 4


def test_bad_input():
    with pytest.raises(ValueError, match=r"N×C×H×W, got \(28, 28\)"):
        affine_batch(np.zeros((28, 28), np.float32), 0, 1, (0, 0))
    with pytest.raises(ValueError, match="scales must be positive"):
        affine_batch(np.zeros((1, 1, 4, 4), np.float32), 0, 0.0, (0, 0))
