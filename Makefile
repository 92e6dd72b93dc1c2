# The course's commands. `make lab` to study, `make test` to check everything.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Quiet TensorFlow's C++ start-up logging in every kernel the suite starts.
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONHASHSEED ?= 0

.PHONY: help venv lab test lint student grade clean

help:
	@echo "make lab      set up .venv and open JupyterLab on notebooks/"
	@echo "make test     set up .venv, then lint and run unit tests + every notebook (nbval)"
	@echo "make student  write student versions of the notebooks into build/student/"
	@echo "              (FORCE=1 also replaces copies edited since; they go to .backup/)"
	@echo "make grade SUBMISSIONS=dir   grade submitted notebooks into build/grades/"
	@echo "              (TIMEOUT=s per cell, default 120)"

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed, found " + sys.version.split()[0]'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

lab: venv
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

lint: venv
	$(BIN)/ruff check helpers coursetools tests notebooks

test: lint
	$(BIN)/python -m pytest

student: venv
	$(BIN)/python -m coursetools.student $(if $(filter-out 0 no false,$(FORCE)),--force)

# `make grade` needs SUBMISSIONS=dir: say so before setting anything up.
ifneq ($(filter grade,$(MAKECMDGOALS)),)
ifeq ($(strip $(SUBMISSIONS)),)
$(error make grade needs the folder of submitted notebooks: make grade SUBMISSIONS=path/to/dir \
(holding <student>__NN_name.ipynb files or <student>/NN_name.ipynb folders))
endif
endif

grade: venv
	$(BIN)/python -m coursetools.grade "$(SUBMISSIONS)" $(if $(TIMEOUT),--timeout $(TIMEOUT))

clean:
	rm -rf build .pytest_cache .ruff_cache
