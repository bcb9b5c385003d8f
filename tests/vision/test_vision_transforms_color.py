"""ColorJitter, GaussianBlur, RandomErasing, RandomApply/Choice/Order, RandomGrayscale and their functional forms.

torchvision is not installable: its tensor formulas (_blend, _rgb2hsv/_hsv2rgb, the Gaussian kernel with reflect
padding) are re-done below in torch as the oracle, PIL paths are checked against Pillow's ImageEnhance, and hue
against Python's colorsys.
"""
import colorsys
import random

import numpy as np
import pytest
import torch
from PIL import Image, ImageEnhance

import ember
from ember.vision import transforms as T
from ember.vision.transforms import functional as F


def rgb_array(h=9, w=11, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def chw(a):
    return ember.tensor(np.ascontiguousarray(a.transpose(2, 0, 1)))


# ------------------------------------------------------------------ torch oracles of torchvision's formulas

def t_blend(a, b, ratio):
    bound = 1.0 if a.is_floating_point() else 255.0
    return (ratio * a + (1.0 - ratio) * b).clamp(0, bound).to(a.dtype)


def t_gray(a):
    r, g, b = a.unbind(dim=-3)
    return (0.2989 * r + 0.587 * g + 0.114 * b).to(a.dtype).unsqueeze(dim=-3)


def t_brightness(a, f):
    return t_blend(a, torch.zeros_like(a), f)


def t_contrast(a, f):
    dtype = a.dtype if a.is_floating_point() else torch.float32
    gray = t_gray(a) if a.shape[-3] == 3 else a
    mean = torch.mean(gray.to(dtype), dim=(-3, -2, -1), keepdim=True)
    return t_blend(a, mean, f)


def t_saturation(a, f):
    return t_blend(a, t_gray(a), f)


def t_blur(a, ksize, sigma):
    dtype = a.dtype if a.is_floating_point() else torch.float32

    def k1(n, s):
        x = torch.linspace(-(n - 1) * 0.5, (n - 1) * 0.5, steps=n, dtype=dtype)
        pdf = torch.exp(-0.5 * (x / s).pow(2))
        return pdf / pdf.sum()

    kernel = torch.mm(k1(ksize[1], sigma[1])[:, None], k1(ksize[0], sigma[0])[None, :])
    c = a.shape[-3]
    x = a.to(dtype).unsqueeze(0)
    x = torch.nn.functional.pad(x, [ksize[0] // 2, ksize[0] // 2, ksize[1] // 2, ksize[1] // 2], mode="reflect")
    out = torch.nn.functional.conv2d(x, kernel.expand(c, 1, *kernel.shape), groups=c)[0]
    if not a.is_floating_point():
        out = torch.round(out)
    return out.to(a.dtype)


def tt(e):
    return torch.from_numpy(np.array(e.numpy()))


@pytest.mark.parametrize("name,fn,factors", [
    ("brightness", t_brightness, [0.0, 0.4, 1.0, 1.7]),
    ("contrast", t_contrast, [0.0, 0.5, 1.0, 2.3]),
    ("saturation", t_saturation, [0.0, 0.3, 1.0, 2.0]),
])
@pytest.mark.parametrize("dtype", ["float32", "uint8"])
def test_adjust_tensor_matches_torchvision_formula(name, fn, factors, dtype):
    a = rgb_array()
    x = chw(a) if dtype == "uint8" else chw(a.astype(np.float32) / 255)
    for f in factors:
        got = getattr(F, f"adjust_{name}")(x, f).numpy()
        want = fn(tt(x), f).numpy()
        assert got.dtype == want.dtype
        if dtype == "uint8":  # float32 rounding can move a value across an integer before truncation
            assert np.abs(got.astype(int) - want.astype(int)).max() <= 1
            assert (got == want).mean() > 0.99
        else:
            np.testing.assert_allclose(got, want, atol=1e-6)
    with pytest.raises(ValueError, match=rf"{name}_factor \(-0.5\) is not non-negative."):
        getattr(F, f"adjust_{name}")(x, -0.5)


def test_adjust_gray_tensor_and_batch():
    g = ember.tensor(rgb_array()[:, :, :1].transpose(2, 0, 1).copy())
    assert F.adjust_saturation(g, 0.3) is g and F.adjust_hue(g, 0.2) is g
    np.testing.assert_array_equal(F.adjust_contrast(g, 0.5).numpy(), t_contrast(tt(g), 0.5).numpy())
    batch = ember.tensor(np.random.default_rng(1).random((2, 3, 4, 5)).astype(np.float32))
    np.testing.assert_allclose(F.adjust_contrast(batch, 0.5).numpy(), t_contrast(tt(batch), 0.5).numpy(), atol=1e-6)
    with pytest.raises(TypeError, match=r"permitted channel values are \[1, 3\], but found 4"):
        F.adjust_brightness(ember.zeros(4, 3, 3), 0.5)


@pytest.mark.parametrize("name,enhancer", [("brightness", ImageEnhance.Brightness),
                                           ("contrast", ImageEnhance.Contrast),
                                           ("saturation", ImageEnhance.Color)])
def test_adjust_pil_is_pillows_enhance_and_close_to_tensor(name, enhancer):
    a = rgb_array(16, 16, seed=2)
    img = Image.fromarray(a)
    out = getattr(F, f"adjust_{name}")(img, 1.3)
    assert isinstance(out, Image.Image) and out.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(out), np.asarray(enhancer(img).enhance(1.3)))
    t = getattr(F, f"adjust_{name}")(chw(a), 1.3).numpy().transpose(1, 2, 0).astype(int)
    assert np.abs(t - np.asarray(out, dtype=int)).max() <= 2  # PIL rounds, torchvision truncates


def test_adjust_hue_tensor_matches_colorsys_and_pil():
    a = rgb_array(6, 7, seed=3)
    x = chw(a.astype(np.float32) / 255)
    for hue in (-0.5, -0.13, 0.0, 0.27, 0.5):
        got = F.adjust_hue(x, hue).numpy()
        want = np.empty_like(got)
        for i in range(a.shape[0]):
            for j in range(a.shape[1]):
                h, s, v = colorsys.rgb_to_hsv(*(a[i, j] / 255))
                want[:, i, j] = colorsys.hsv_to_rgb((h + hue) % 1.0, s, v)
        np.testing.assert_allclose(got, want, atol=2e-6)
    u = F.adjust_hue(chw(a), 0.27)
    assert u.dtype == ember.uint8
    # uint8 goes through float32 and back with torchvision's convert_image_dtype (x * 255.999, truncated)
    want = (F.adjust_hue(x, 0.27).numpy() * np.float32(255.999)).astype(np.uint8)
    np.testing.assert_array_equal(u.numpy(), want)
    pil = F.adjust_hue(Image.fromarray(a), 0.27)
    assert pil.mode == "RGB" and np.abs(np.asarray(pil, dtype=int) - u.numpy().transpose(1, 2, 0)).mean() < 8
    gray_img = Image.fromarray(a[:, :, 0])
    assert F.adjust_hue(gray_img, 0.3) is gray_img
    with pytest.raises(ValueError, match=r"hue_factor \(0.6\) is not in \[-0.5, 0.5\]."):
        F.adjust_hue(x, 0.6)
    with pytest.raises(ValueError, match=r"hue_factor \(-0.7\) is not in \[-0.5, 0.5\]."):
        F.adjust_hue(Image.fromarray(a), -0.7)


# ------------------------------------------------------------------ Gaussian blur

@pytest.mark.parametrize("ksize,sigma", [((3, 3), (0.8, 0.8)), ((5, 3), (1.5, 0.6)), ((7, 7), None)])
def test_gaussian_blur_matches_torch_conv_with_reflect_padding(ksize, sigma):
    a = rgb_array(10, 12, seed=4)
    xf = chw(a.astype(np.float32) / 255)
    s = sigma if sigma is not None else [k * 0.15 + 0.35 for k in ksize]
    got = F.gaussian_blur(xf, list(ksize), sigma if sigma is None else list(sigma)).numpy()
    np.testing.assert_allclose(got, t_blur(tt(xf), ksize, s).numpy(), atol=1e-6)
    xu = chw(a)
    got = F.gaussian_blur(xu, list(ksize), sigma if sigma is None else list(sigma)).numpy()
    want = t_blur(tt(xu), ksize, s).numpy()
    assert got.dtype == np.uint8 and np.abs(got.astype(int) - want.astype(int)).max() <= 1
    pil = F.gaussian_blur(Image.fromarray(a), list(ksize), sigma if sigma is None else list(sigma))
    assert isinstance(pil, Image.Image) and pil.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(pil), got.transpose(1, 2, 0))


def test_gaussian_blur_errors_and_transform():
    x = ember.rand(3, 8, 8)
    with pytest.raises(ValueError, match=r"kernel_size should have odd and positive integers. Got \[4, 4\]"):
        F.gaussian_blur(x, 4)
    with pytest.raises(ValueError, match=r"sigma should have positive values. Got \[0.0, 0.0\]"):
        F.gaussian_blur(x, 3, 0.0)
    with pytest.raises(TypeError, match="kernel_size should be int or a sequence of integers"):
        F.gaussian_blur(x, 3.0)
    with pytest.raises(ValueError, match="Kernel size value should be an odd and positive number."):
        T.GaussianBlur(2)
    with pytest.raises(ValueError, match=r"sigma values should be positive and of the form \(min, max\)."):
        T.GaussianBlur(3, sigma=(2.0, 1.0))
    assert repr(T.GaussianBlur((3, 5), sigma=1.5)) == "GaussianBlur(kernel_size=(3, 5), sigma=(1.5, 1.5))"
    blur = T.GaussianBlur(3, sigma=(0.5, 2.0))
    ember.manual_seed(7)
    out = blur(x)
    ember.manual_seed(7)
    sigma = T.GaussianBlur.get_params(0.5, 2.0)
    assert 0.5 <= sigma <= 2.0
    np.testing.assert_array_equal(out.numpy(), F.gaussian_blur(x, [3, 3], [sigma, sigma]).numpy())


# ------------------------------------------------------------------ ColorJitter

def test_color_jitter_ranges_repr_and_errors():
    cj = T.ColorJitter(brightness=0.5, contrast=(0.2, 1.8), saturation=0, hue=0.1)
    assert repr(cj) == ("ColorJitter(brightness=(0.5, 1.5), contrast=(0.2, 1.8), saturation=None, "
                        "hue=(-0.1, 0.1))")
    assert T.ColorJitter(brightness=1.5).brightness == (0.0, 2.5)
    with pytest.raises(ValueError, match="If brightness is a single number, it must be non negative."):
        T.ColorJitter(brightness=-1)
    with pytest.raises(ValueError, match=r"hue values should be between \(-0.5, 0.5\), but got \[-0.6, 0.6\]."):
        T.ColorJitter(hue=0.6)
    with pytest.raises(TypeError, match="contrast should be a single number or a list/tuple with length 2."):
        T.ColorJitter(contrast=(1, 2, 3))


def test_color_jitter_applies_get_params_in_order_and_is_seeded():
    a = rgb_array(8, 8, seed=5)
    x = chw(a.astype(np.float32) / 255)
    cj = T.ColorJitter(0.4, 0.4, 0.4, 0.2)
    ember.manual_seed(11)
    out = cj(x)
    ember.manual_seed(11)
    order, b, c, s, h = T.ColorJitter.get_params(cj.brightness, cj.contrast, cj.saturation, cj.hue)
    assert sorted(order.tolist()) == [0, 1, 2, 3] and 0.6 <= b <= 1.4 and -0.2 <= h <= 0.2
    want = x
    for i in order.tolist():
        want = [lambda y: F.adjust_brightness(y, b), lambda y: F.adjust_contrast(y, c),
                lambda y: F.adjust_saturation(y, s), lambda y: F.adjust_hue(y, h)][i](want)
    np.testing.assert_array_equal(out.numpy(), want.numpy())
    ember.manual_seed(11)
    np.testing.assert_array_equal(cj(x).numpy(), out.numpy())
    pil = cj(Image.fromarray(a))
    assert isinstance(pil, Image.Image) and pil.size == (8, 8)
    assert T.ColorJitter()(x) is x  # nothing to do


# ------------------------------------------------------------------ RandomErasing

def test_erase_and_random_erasing():
    x = ember.rand(3, 10, 12)
    out = F.erase(x, 2, 3, 4, 5, ember.tensor(0.5))
    got = out.numpy()
    assert (got[:, 2:6, 3:8] == 0.5).all()
    mask = np.ones_like(got, bool)
    mask[:, 2:6, 3:8] = False
    np.testing.assert_array_equal(got[mask], x.numpy()[mask])
    assert not (x.numpy()[:, 2:6, 3:8] == 0.5).all()  # not in place by default
    F.erase(x, 0, 0, 1, 1, ember.tensor(7.0), inplace=True)
    assert x.numpy()[0, 0, 0] == 7.0
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        F.erase(Image.fromarray(rgb_array()), 0, 0, 1, 1, 0)

    x = ember.rand(3, 20, 20)
    er = T.RandomErasing(p=1.0, value=(0.1, 0.2, 0.3))
    ember.manual_seed(3)
    out = er(x)
    ember.manual_seed(3)
    ember.rand(1)  # the probability draw
    i, j, h, w, v = T.RandomErasing.get_params(x, scale=er.scale, ratio=er.ratio, value=[0.1, 0.2, 0.3])
    assert 0 < h < 20 and 0 < w < 20 and tuple(v.shape) == (3, 1, 1)
    box = out.numpy()[:, i:i + h, j:j + w]
    np.testing.assert_allclose(box, np.broadcast_to(np.float32([0.1, 0.2, 0.3])[:, None, None], box.shape))
    assert (out.numpy() != x.numpy()).sum() == np.count_nonzero(box != x.numpy()[:, i:i + h, j:j + w])
    area = h * w / 400
    assert 0.02 - 0.01 <= area <= 0.33 + 0.05
    assert T.RandomErasing(p=0.0)(x) is x
    noisy = T.RandomErasing(p=1.0, value="random")(x).numpy()
    assert (noisy != x.numpy()).any() and noisy.min() < 0  # standard-normal noise
    assert repr(T.RandomErasing()) == ("RandomErasing(p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, "
                                       "inplace=False)")
    with pytest.raises(ValueError, match="If value is str, it should be 'random'"):
        T.RandomErasing(value="noise")
    with pytest.raises(ValueError, match="Scale should be between 0 and 1"):
        T.RandomErasing(scale=(0.1, 1.5))
    with pytest.raises(ValueError, match="Random erasing probability should be between 0 and 1"):
        T.RandomErasing(p=1.5)
    with pytest.raises(ValueError, match=r"either a single value or 3 \(number of input channels\)"):
        T.RandomErasing(p=1.0, value=(1, 2))(x)
    # an image too small for any box: the image itself comes back
    tiny = ember.rand(3, 1, 1)
    i, j, h, w, v = T.RandomErasing.get_params(tiny, scale=(0.5, 1.0), ratio=(1.0, 1.0), value=[0.0])
    assert (i, j, h, w) == (0, 0, 1, 1) and v is tiny


# ------------------------------------------------------------------ RandomApply / Choice / Order / Grayscale

def test_random_apply_choice_order_and_grayscale():
    x = ember.tensor(np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4))
    add1 = T.Lambda(lambda t: t + 1)
    times2 = T.Lambda(lambda t: t * 2)
    np.testing.assert_array_equal(T.RandomApply([add1, times2], p=1.0)(x).numpy(), (x.numpy() + 1) * 2)
    assert T.RandomApply([add1], p=0.0)(x) is x
    ember.manual_seed(0)
    hits = sum(T.RandomApply([add1], p=0.3)(x) is not x for _ in range(400))
    assert 80 < hits < 160
    assert repr(T.RandomApply([T.RandomHorizontalFlip()], p=0.3)) == (
        "RandomApply(\n    p=0.3\n    RandomHorizontalFlip(p=0.5)\n)")

    random.seed(5)
    order_out = [T.RandomOrder([add1, times2])(x).numpy()[0, 0, 0] for _ in range(20)]
    assert set(order_out) == {2.0, 1.0}  # (0+1)*2 or 0*2+1: both orders occur
    random.seed(5)
    assert [T.RandomOrder([add1, times2])(x).numpy()[0, 0, 0] for _ in range(20)] == order_out
    random.seed(1)
    picks = [T.RandomChoice([add1, times2], p=[0.0, 1.0])(x).numpy()[0, 0, 1] for _ in range(10)]
    assert picks == [2.0] * 10
    assert repr(T.RandomChoice([T.Grayscale()])) == "RandomChoice(\n    Grayscale(num_output_channels=1)\n)(p=None)"
    assert repr(T.RandomOrder([T.Grayscale()])) == "RandomOrder(\n    Grayscale(num_output_channels=1)\n)"
    with pytest.raises(TypeError, match="Argument transforms should be a sequence"):
        T.RandomOrder(add1)
    with pytest.raises(TypeError, match="Argument p should be a sequence"):
        T.RandomChoice([add1], p=0.5)

    img = Image.fromarray(rgb_array())
    g = T.RandomGrayscale(p=1.0)(img)
    assert g.mode == "RGB" and np.array_equal(np.asarray(g)[:, :, 0], np.asarray(img.convert("L")))
    assert T.RandomGrayscale(p=0.0)(img) is img and repr(T.RandomGrayscale()) == "RandomGrayscale(p=0.1)"
    t = T.RandomGrayscale(p=1.0)(chw(rgb_array()))
    assert tuple(t.shape) == (3, 9, 11) and (t.numpy()[0] == t.numpy()[2]).all()


def test_random_crop_pad_if_needed_fill_and_padding_mode():
    a = np.arange(3 * 4, dtype=np.uint8).reshape(3, 4)
    img = Image.fromarray(a)
    out = T.RandomCrop((7, 8), pad_if_needed=True, fill=9)(img)
    # both sides padded by the missing amount: (8-4) left and right, (7-3) top and bottom, then a 7x8 crop
    padded = np.pad(a, ((4, 4), (4, 4)), constant_values=9)
    windows = [padded[i:i + 7, j:j + 8] for i in range(padded.shape[0] - 6) for j in range(padded.shape[1] - 7)]
    assert any(np.array_equal(np.asarray(out), w) for w in windows)
    t = T.RandomCrop((5, 6), padding=2, padding_mode="reflect")(ember.tensor(a[None].copy()))
    reflected = np.pad(a, 2, mode="reflect")
    windows = [reflected[i:i + 5, j:j + 6] for i in range(3) for j in range(3)]
    assert any(np.array_equal(t.numpy()[0], w) for w in windows)
    edge = T.RandomCrop((3, 4), padding=(1, 0), padding_mode="edge")(img)
    assert np.asarray(edge).shape == (3, 4)


def test_module_transforms_chain_in_nn_sequential_as_torchvisions():
    # torchvision's transforms with a forward are torch.nn.Modules; ToTensor, Compose, Lambda and the
    # RandomTransforms are plain classes
    for t in (T.Normalize((0.5,), (0.5,)), T.CenterCrop(3), T.ColorJitter(0.1), T.RandomErasing(), T.GaussianBlur(3),
              T.RandomApply([T.Grayscale()]), T.RandomGrayscale(), T.Resize(4)):
        assert isinstance(t, ember.nn.Module), t
    for t in (T.ToTensor(), T.Compose([]), T.Lambda(abs), T.RandomOrder([]), T.ToPILImage(), T.PILToTensor()):
        assert not isinstance(t, ember.nn.Module), t
    seq = ember.nn.Sequential(T.CenterCrop(4), T.Normalize((0.5,), (0.25,)))
    x = ember.rand(1, 6, 6)
    np.testing.assert_allclose(seq(x).numpy(), (x.numpy()[:, 1:5, 1:5] - 0.5) / 0.25, atol=1e-6)
    assert repr(seq) == ("Sequential(\n  (0): CenterCrop(size=(4, 4))\n  (1): Normalize(mean=(0.5,), std=(0.25,))\n)")
