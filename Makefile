# Everything a fresh machine needs: `make demo` (main job) and `make test` (whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The demo needs ember and its `cli` extra only; the tests add the oracle (torch) and the test tools.
CLI_STAMP := $(VENV)/.installed-cli
STAMP := $(VENV)/.installed

.PHONY: demo lm tutorials test bench clean

$(CLI_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e '.[cli]'
	touch $(CLI_STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

# The main job: train LeNet on MNIST with the defaults and print the test accuracy.
# Benchmarks and training run without the machine's OPENBLAS_* overrides (they halve NumPy's GEMM speed).
demo: $(CLI_STAMP)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(VENV)/bin/ember train lenet --dataset mnist

# The language-model job: the book's character LSTM on the default corpus (Python's documentation prose).
lm: $(STAMP)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(VENV)/bin/ember train char-lstm

# The tutorials' tensor/autograd programs, one after another.
tutorials: $(CLI_STAMP)
	$(PY) examples/demo.py

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info
