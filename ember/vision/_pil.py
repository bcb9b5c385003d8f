"""Pillow is ember's optional 'vision' extra: import it only when an image is actually needed."""
import sys


def require_pil():
    """Return the PIL.Image module, or raise an ImportError that says how to install Pillow."""
    try:
        from PIL import Image
    except ImportError as e:  # pragma: no cover - exercised only without Pillow
        raise ImportError(
            "ember.vision needs Pillow for images (PIL.Image), which is not installed. Install the 'vision' "
            "extra: pip install 'ember[vision]'  (or: pip install pillow)") from e
    return Image


def is_pil_image(obj):
    """True for a PIL image; never imports Pillow (an image can exist only if PIL.Image is loaded)."""
    mod = sys.modules.get("PIL.Image")
    return mod is not None and isinstance(obj, mod.Image)
