# The course's commands. `make lab` to study, `make test` to check everything.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Quiet TensorFlow's C++ start-up logging in every kernel the suite starts.
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONHASHSEED ?= 0

.PHONY: help venv lab test timing lint student grade exercises html html-student test-site clean

help:
	@echo "make lab      set up .venv and open JupyterLab on notebooks/"
	@echo "make test     set up .venv, then lint and run unit tests + every notebook (nbval),"
	@echo "              in parallel (JOBS=auto: one worker per core; JOBS=1 for one)"
	@echo "make timing   run the notebooks one at a time and check them against their budgets"
	@echo "make html     the executed course as an offline website in build/site/ (instructor"
	@echo "              edition); executes only notebooks changed since make test"
	@echo "make html-student  the same for students (exercises blank) in build/site-student/"
	@echo "make test-site  check build/site/ in headless Chromium with the network cut off"
	@echo "make student  write student versions of the notebooks into build/student/"
	@echo "              (FORCE=1 also replaces copies edited since; they go to .backup/)"
	@echo "make exercises  after editing exercises: write their nbgrader metadata and"
	@echo "              helpers/exercises/reference.json from the notebooks"
	@echo "make grade SUBMISSIONS=dir   grade submitted notebooks into build/grades/, each"
	@echo "              in a bubblewrap sandbox (TIMEOUT=s per cell, default 120; JOBS=n at"
	@echo "              a time, default: the cores; SHARD=k/n grades the k-th of n parts;"
	@echo "              OUT=dir; NO_SANDBOX=1 only for submissions you trust)"

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed, found " + sys.version.split()[0]'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m coursetools.install_env -r requirements.txt  # + TensorFlow's CUDA build if nvidia-smi lists a GPU
	touch $(STAMP)

venv: $(STAMP)

# JupyterLab at notebooks/, with the course's settings (no news prompt): coursetools/lab.py
lab: venv
	$(BIN)/python -m coursetools.lab

lint: venv
	$(BIN)/ruff check helpers coursetools tests notebooks

# Whole files per worker (a notebook's cells stay in one kernel); one worker per core; files
# in the order coursetools/order.py gives (longest notebooks first), not re-sorted by xdist.
JOBS ?= auto
test: lint
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile --no-loadscope-reorder

# The notebooks one after another: wall times comparable with their budgets.
timing: venv
	$(BIN)/python -m pytest notebooks -p no:xdist

# The executed notebooks (kept by the suite in build/executed/) as web pages: coursetools/site.py
html: venv
	$(BIN)/python -m coursetools.site

html-student: venv
	$(BIN)/python -m coursetools.site --student

test-site: venv
	COURSE_SITE_DIR=build/site $(BIN)/python -m pytest tests/test_browser_site.py -p no:xdist

exercises: venv
	$(BIN)/python -m coursetools.exercise_metadata

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
	$(BIN)/python -m coursetools.grade "$(SUBMISSIONS)" $(if $(TIMEOUT),--timeout $(TIMEOUT)) \
		$(if $(JOBS),--jobs $(JOBS)) $(if $(SHARD),--shard $(SHARD)) $(if $(OUT),--out "$(OUT)") \
		$(if $(filter-out 0 no false,$(NO_SANDBOX)),--no-sandbox)

clean:
	rm -rf build .pytest_cache .ruff_cache
