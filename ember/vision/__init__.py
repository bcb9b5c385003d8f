"""ember.vision: torchvision's API for ember.

    import ember.vision as torchvision
    from ember.vision import datasets, transforms

Datasets read from disk (and download where they can); transforms work on PIL images (Pillow is the
optional 'vision' extra, imported only when an image is touched) and on ember tensors.
"""
from ember.vision import datasets, transforms  # noqa: F401


def __getattr__(name):
    # ember.vision.models (torchvision.models' architectures) is its own subpackage: `ember.vision.models`
    # works like `torchvision.models` without `import ember.vision` importing it eagerly.
    if name in ("models", "io", "utils"):
        import importlib
        return importlib.import_module(f"ember.vision.{name}")
    raise AttributeError(f"module 'ember.vision' has no attribute {name!r}")


_image_backend = "PIL"


def get_image_backend():
    """The package that loads images: always 'PIL' in ember."""
    return _image_backend


def set_image_backend(backend):
    if backend != "PIL":
        raise ValueError(f"Invalid backend '{backend}'. ember.vision supports only 'PIL'")


__all__ = ["datasets", "transforms", "get_image_backend", "set_image_backend"]
