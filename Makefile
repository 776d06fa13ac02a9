# Development entry points; see README.md.
.PHONY: run test build dist check-deploy

# Extra arguments for go test, e.g. make test ARGS='-run TestSeed ./internal/demo'
ARGS ?=

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh $(ARGS)

build:
	go build -o bin/cantina-ops ./cmd/cantina-ops

# Release archives and SHA256SUMS in dist/ (see README.md, Releases).
dist:
	bash scripts/dist.sh

# The deploy and release checks of make test alone, without services.
check-deploy:
	bash scripts/test.sh --deploy-only
