# The two commands in README: `make run` and `make test`. Both install what is missing first.
.PHONY: run test setup lint demo bench

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/workbench score --dataset resources/demo --split dev --predictions resources/demo/sample_predictions.sql
	.venv/bin/workbench run --dataset resources/demo --split dev --limit 10 --store .workbench/demo.sqlite --run-name "demo-local-$$(date +%s)"

test: setup
	.venv/bin/ruff check .
	QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest

lint: setup
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

demo: setup
	.venv/bin/python resources/demo/build_demo.py

bench: setup
	.venv/bin/python bench/score_speed.py
