# kg — two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test bench fuzz kb clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

KB     := data/kb.sqlite
KB_SRC := $(shell find data/kb-sources -type f 2>/dev/null) kg/linking/kb.py kg/linking/sources.py

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# the offline knowledge base, rebuilt whenever a source file changes
$(KB): $(STAMP) $(KB_SRC)
	$(BIN)/kg kb build --quiet

install: $(STAMP) $(KB)

kb: $(STAMP)
	$(BIN)/kg kb build

run: install
	@mkdir -p out
	$(BIN)/kg build seeds --store .kg/store -o out/seed.trig --replace
	@for q in queries/*.rq; do \
		case "$$q" in *federated*) continue;; esac; \
		echo "== $$q"; $(BIN)/kg query "$$q" --store .kg/store --limit 15 || exit 1; \
	done

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python benchmarks/bench.py

# the hostile-text property tests with ten times the examples of `make test` (KG_FUZZ_EXAMPLES=N to choose)
fuzz: install
	KG_FUZZ_EXAMPLES=$${KG_FUZZ_EXAMPLES:-20000} $(BIN)/python -m pytest -q tests/reliability/test_hostile_text.py

clean:
	rm -rf $(VENV) .kg out .pytest_cache
