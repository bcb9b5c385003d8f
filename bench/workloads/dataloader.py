"""Group `dataloader`: DataLoader throughput over one epoch of MNIST as PIL images (60,000; `--quick`: 10,000).

The tutorials' input pipeline: a map-style MNIST dataset whose items are PIL images (mode 'L') passed through
`Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])`, in a `DataLoader(batch_size=256, shuffle=True,
num_workers=0 or 2)` iterated once; the loop body only counts the images and sums the labels.

- ember: `ember.vision.datasets.MNIST` + `ember.vision.transforms` + `ember.utils.data.DataLoader`.
- torch: there is no torchvision here, so `TorchMNIST` below is a minimal stand-in that does what
  torchvision's does: the images as a uint8 torch tensor, `__getitem__` = `Image.fromarray(data[i].numpy())`
  then the transform, and `ToTensor` / `Normalize` copy torchvision's tensor code for PIL input
  (`from_numpy(np.array(pic)).view(h, w, c).permute(2, 0, 1).contiguous().to(float32).div(255)`, then
  `clone().sub_(mean).div_(std)` with mean/std as (C,1,1) tensors), with `torch.utils.data.DataLoader`.

Throughput = images per second over the epoch, including creating the iterator (and so starting the
workers, which are not persistent).  One warm-up epoch, median of 3.  Ratio = ember/torch throughput.
"""
import numpy as np

import common
from registry import OPTIONS, add, group

MEAN, STD = (common.MEAN,), (common.STD,)

group("dataloader", "DataLoader over MNIST as PIL images with ToTensor + Normalize, batch 256, shuffle; "
      "images per second over one epoch (60k; --quick 10k)", unit="img/s", default=False,
      target="ember/torch throughput >= 1")


def torch_dataset(torch, images, labels):
    """The torch side: a minimal torchvision-like MNIST with torchvision's ToTensor and Normalize math."""
    from PIL import Image

    class ToTensor:
        def __call__(self, pic):
            img = torch.from_numpy(np.array(pic, np.uint8, copy=True))
            img = img.view(pic.size[1], pic.size[0], len(pic.getbands()))
            img = img.permute((2, 0, 1)).contiguous()
            return img.to(dtype=torch.get_default_dtype()).div(255)

    class Normalize:
        def __init__(self, mean, std):
            self.mean, self.std = mean, std

        def __call__(self, tensor):
            tensor = tensor.clone()
            mean = torch.as_tensor(self.mean, dtype=tensor.dtype, device=tensor.device)
            std = torch.as_tensor(self.std, dtype=tensor.dtype, device=tensor.device)
            if (std == 0).any():
                raise ValueError("std evaluated to zero after conversion to float")
            return tensor.sub_(mean.view(-1, 1, 1)).div_(std.view(-1, 1, 1))

    class Compose:
        def __init__(self, transforms):
            self.transforms = transforms

        def __call__(self, img):
            for t in self.transforms:
                img = t(img)
            return img

    class TorchMNIST(torch.utils.data.Dataset):
        def __init__(self, data, targets, transform):
            self.data, self.targets, self.transform = torch.from_numpy(data), torch.from_numpy(targets), transform

        def __getitem__(self, index):
            img, target = self.data[index], int(self.targets[index])
            img = Image.fromarray(img.numpy())
            return self.transform(img), target

        def __len__(self):
            return len(self.data)

    return TorchMNIST(images, labels, Compose([ToTensor(), Normalize(MEAN, STD)]))


def ember_dataset(ember, n):
    from ember.vision import datasets, transforms
    ds = datasets.MNIST(common.MNIST_ROOT, train=True, download=True,
                        transform=transforms.Compose([transforms.ToTensor(), transforms.Normalize(MEAN, STD)]))
    if n < len(ds):
        ds.data, ds.targets = ds.data[:n], ds.targets[:n]
    return ds


def expected():
    x, y, _, _ = common.mnist_uint8()
    n = common.QUICK_TRAIN if OPTIONS.quick else len(y)
    return x[:n], y[:n]


def loader(num_workers):
    def make(lib):
        images, labels = expected()
        if lib.__name__ == "ember":
            import ember.utils.data  # noqa: F401  (not loaded by `import ember` alone)
            ds = ember_dataset(lib, len(labels))
        else:
            import torch.utils.data  # noqa: F401
            ds = torch_dataset(lib, images, labels)
        dl = lib.utils.data.DataLoader(ds, batch_size=256, shuffle=True, num_workers=num_workers)

        def run():
            n = label_sum = 0
            for x, y in dl:
                n += x.shape[0]
                label_sum += int(y.sum())
            return np.array([n, label_sum, *x.shape[1:]])
        run.items = len(labels)  # images per call: the rate is images per second
        return run
    return make


def check(result):
    _, y = expected()
    want = [len(y), int(y.sum()), 1, 28, 28]
    assert list(result) == want, f"epoch gave [images, label sum, C, H, W] = {list(result)}, expected {want}"


for workers in (0, 2):
    add("dataloader", f"MNIST PIL ToTensor+Normalize b256 workers={workers}", loader(workers), warmup=1,
        repeats=3, rate=True, target_ratio=1.0, check=check,
        params={"batch": 256, "num_workers": workers, "shuffle": True})
