# Two commands do all set-up on a fresh clone: `make demo` and `make test`.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
OUTDIR  ?= out

.PHONY: demo test install clean baselines

$(BIN)/python:
	$(PY) -m venv $(VENV)

# torch first: pinned to the CPU wheel on these machines' disk (plain `torch` pulls a CUDA build)
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev,ray]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/nlp annotate examples/suining-2023.txt -o $(OUTDIR)/suining-2023.jsonl
	$(BIN)/nlp annotate examples/suining-2023.txt -o $(OUTDIR)/suining-2023.csv
	@echo
	@echo "Outputs:"
	@echo "  $(OUTDIR)/suining-2023.jsonl  one record: paragraphs, sentences (offsets, label, label source), entities"
	@echo "  $(OUTDIR)/suining-2023.csv    one row per sentence"

test: $(STAMP)
	$(BIN)/python -m pytest

# dev scores of the three baselines (the README table); needs ../shared/data
baselines: $(STAMP)
	bash eval/baselines.sh

clean:
	rm -rf $(VENV) $(OUTDIR) .pytest_cache
