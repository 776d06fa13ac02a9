# Development entry points; see README.md.
.PHONY: run test build

# Extra arguments for go test, e.g. make test ARGS='-run TestSeed ./internal/demo'
ARGS ?=

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh $(ARGS)

build:
	go build -o bin/cantina-ops ./cmd/cantina-ops
