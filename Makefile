# newsmon — the two quick-start commands are `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: venv demo test lint bench bench-smoke clean

venv: $(STAMP)

# pip is upgraded first: the machine's pip 23 skips lxml_html_clean, which trafilatura needs.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/newsmon demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	@for b in bench/*.py; do case $$b in bench/_*) continue;; esac; \
	  m=$$(basename $$b .py); echo "== bench.$$m"; $(BIN)/python -m bench.$$m || exit 1; done

# Every benchmark in its smoke mode (tiny sizes, seconds, no targets): CI runs it so that
# no benchmark rots. Those needing ../shared/data skip with a message where it is absent.
bench-smoke: $(STAMP)
	@for b in bench/*.py; do case $$b in bench/_*) continue;; esac; \
	  m=$$(basename $$b .py); echo "== bench.$$m --smoke"; \
	  NEWSMON_BENCH_SMOKE=1 $(BIN)/python -m bench.$$m --smoke || exit 1; done

clean:
	rm -rf $(VENV) data .pytest_cache
