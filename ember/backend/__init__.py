"""What ember's ops compute on: NumPy arrays (the ops call NumPy directly), the dtypes and promotion
rules (dtypes.py), devices (device.py), scratch memory (memory.py), the worker pool (threads.py) and the one
BLAS kernel NumPy does not expose, a fused y += alpha * x (blas.py)."""
