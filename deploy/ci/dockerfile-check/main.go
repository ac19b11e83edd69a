// dockerfile-check parses a Dockerfile with BuildKit's own parser and runs the build checks BuildKit
// applies while parsing instructions (what `docker build --check` reports at that stage: casing,
// malformed instructions, deprecated forms...). It needs no Docker engine. Used by
// deploy/ci/check-compose.sh. Exit 1 on a parse error or any warning.
package main

import (
	"fmt"
	"os"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: dockerfile-check <Dockerfile>")
		os.Exit(64)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fail(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		fail(err)
	}
	warnings := 0
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, loc []parser.Range) {
		warnings++
		line := 0
		if len(loc) > 0 {
			line = loc[0].Start.Line
		}
		fmt.Fprintf(os.Stderr, "dockerfile-check: line %d: %s: %s\n", line, rule, msg)
	}})
	stages, args, err := instructions.Parse(res.AST, lint)
	if err != nil {
		fail(err)
	}
	for _, w := range res.Warnings {
		warnings++
		fmt.Fprintf(os.Stderr, "dockerfile-check: %s\n", w.Short)
	}
	if warnings > 0 {
		os.Exit(1)
	}
	fmt.Printf("%d stages, %d global build args, no warnings\n", len(stages), len(args))
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "dockerfile-check: %v\n", err)
	os.Exit(1)
}
