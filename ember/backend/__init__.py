"""What ember's ops compute on: NumPy arrays (the ops call NumPy directly), the dtypes and promotion
rules (dtypes.py), devices (device.py), scratch memory (memory.py) and the worker pool (threads.py)."""
