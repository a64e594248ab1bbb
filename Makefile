# The two commands in README: `make run` and `make test`. Both install what is missing first.
.PHONY: run headless test setup lint demo bench screenshot

setup:
	@bash scripts/setup.sh

# With a display: the desktop app. Without one: the headless demo (score the sample, a short local run).
run: setup
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then .venv/bin/workbench; else $(MAKE) --no-print-directory headless; fi

headless: setup
	@echo "no display: running the headless demo (on a desktop, 'make run' opens the window)"
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

screenshot: setup
	xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python packaging/screenshot.py docs/screenshot.png
