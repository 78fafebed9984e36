# The two commands: `make run` starts the service, `make test` runs every test.
# Both install what is missing first (scripts/bootstrap.sh), so a fresh machine needs nothing else.
.PHONY: run test setup setup-test bench lint

HOST ?= 127.0.0.1
PORT ?= 8000

run: setup
	.venv/bin/jxdoc serve --host $(HOST) --port $(PORT)

test: setup-test
	.venv/bin/python -m pytest -n 2 --dist loadgroup

setup:
	@scripts/bootstrap.sh run

setup-test:
	@scripts/bootstrap.sh test

bench: setup
	.venv/bin/python -m bench

lint: setup-test
	.venv/bin/ruff check .
