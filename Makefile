# tocns — `make run` starts the bot on its embedded defaults; `make test` runs every check.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: setup system-deps run chat test lint typecheck unit bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

setup: $(BIN)/.installed

system-deps:
	./scripts/install-system-deps.sh

run: setup
	$(BIN)/tocns run

chat: setup
	$(BIN)/tocns chat

lint: setup
	$(BIN)/ruff check bot db tests bench scripts
	$(BIN)/ruff format --check bot db tests bench scripts

typecheck: setup
	$(BIN)/mypy

test: setup system-deps lint typecheck
	$(BIN)/tocns guides check
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: setup
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache .pytest_cache
