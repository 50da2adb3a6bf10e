# napari-unmix: every set-up step lives here, so a fresh clone needs only `make demo` / `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BENCH_VENV ?= .venv-bench
STNMF_VENV ?= .venv-stnmf
PYTEST_ARGS ?=
# e.g. make bench BENCH_ARGS=--quick (smaller sizes, to try it)
BENCH_ARGS ?=
# Debian packages napari needs to render under a virtual X display (Xvfb + Mesa llvmpipe).
APT_PACKAGES := xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 \
	libxcb-xinerama0 libxcb-xkb1 libxcb-shape0 libxcb-randr0 libxcb-cursor0 libxkbcommon-x11-0 \
	libgl1 libegl1 libgl1-mesa-dri libfontconfig1 libdbus-1-3

.PHONY: help venv install demo test system-deps napari bench lint format clean docs docs-images

help:
	@echo "make demo    - create $(VENV), install, run every tool on the sample data -> demo_output/"
	@echo "make test    - install test deps (and Xvfb when root), run the whole suite headless"
	@echo "make napari  - open napari with the plugin (needs a display)"
	@echo "make bench   - benchmarks against the reference packages (separate venvs) -> docs/benchmarks.md"
	@echo "make docs    - build the documentation (mkdocs --strict) into site/"
	@echo "make docs-images - regenerate the napari screenshots in docs/images/ (Xvfb)"

$(PY):
	@set -e; py=$$(tools/find_python.sh); echo "using $$py ($$($$py --version))"; \
	$$py -m venv $(VENV); $(PY) -m pip install -q --upgrade pip

venv: $(PY)

install: $(PY)
	$(PY) -m pip install -q -e ".[test,docs]"

demo: install
	$(PY) -m napari_unmix.demo --output demo_output

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then echo "installing:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) >/dev/null; \
	  else echo "warning: missing Debian packages:$$missing (run as root or install them; GUI tests need Xvfb)"; fi; \
	fi

test: system-deps install
	QT_API=pyqt6 $(PY) -m pytest $(PYTEST_ARGS)

napari: install
	$(PY) -m napari

bench: install
	@test -x $(BENCH_VENV)/bin/python || $$(tools/find_python.sh) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q -e . -r benchmarks/requirements-bench.txt
	@test -x $(STNMF_VENV)/bin/python || $$(tools/find_python.sh) -m venv $(STNMF_VENV)
	$(STNMF_VENV)/bin/python -m pip install -q -r benchmarks/requirements-stnmf.txt
	$(BENCH_VENV)/bin/python benchmarks/run_all.py --stnmf-python $(STNMF_VENV)/bin/python --write-docs $(BENCH_ARGS)

lint: install
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m ruff format --check src tests benchmarks

format: install
	$(PY) -m ruff format src tests benchmarks
	$(PY) -m ruff check --fix src tests benchmarks

docs: install
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir site
	@echo "open site/index.html"

docs-images: system-deps install
	QT_API=pyqt6 xvfb-run -a -s "-screen 0 1600x1000x24" $(PY) tools/make_docs_images.py

clean:
	rm -rf build dist demo_output site .pytest_cache src/*.egg-info
