"""ember.vision.io: torchvision.io's image functions (read_file, decode_image, read_image, encode/write PNG and
JPEG), decoded and encoded through Pillow (the optional 'vision' extra)."""
from ember.vision.io.image import (ImageReadMode, decode_image, decode_jpeg, decode_png, encode_jpeg,  # noqa: F401
                                   encode_png, read_file, read_image, write_file, write_jpeg, write_png)

__all__ = ["ImageReadMode", "decode_image", "decode_jpeg", "decode_png", "encode_jpeg", "encode_png", "read_file",
           "read_image", "write_file", "write_jpeg", "write_png"]
