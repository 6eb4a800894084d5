# The two commands of the README: `make demo` and `make test`. Both set up what they need first.
.PHONY: setup demo test
ARGS ?=

setup:
	@scripts/setup

demo: setup
	.venv/bin/skillpass demo $(ARGS)

test: setup
	scripts/test
