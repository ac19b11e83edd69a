// compose-validate loads a compose file the way Docker Compose v2 does (compose-go: the same loader,
// schema and interpolation `docker compose config` uses), with the given profiles, and prints the
// resolved service names. It needs no Docker engine and reads no .env file (the checks are about the
// committed defaults). Used by deploy/ci/check-compose.sh.
//
//	go run . -f ../../../docker-compose.yml -profile observability
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	file := flag.String("f", "docker-compose.yml", "compose file")
	profiles := flag.String("profile", "", "comma-separated profiles to enable")
	flag.Parse()

	abs, err := filepath.Abs(*file)
	if err != nil {
		fail(err)
	}
	opts := []cli.ProjectOptionsFn{
		cli.WithWorkingDirectory(filepath.Dir(abs)),
		cli.WithOsEnv,
		cli.WithName("smshub"),
	}
	if *profiles != "" {
		opts = append(opts, cli.WithProfiles(strings.Split(*profiles, ",")))
	}
	po, err := cli.NewProjectOptions([]string{abs}, opts...)
	if err != nil {
		fail(err)
	}
	project, err := po.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	names := project.ServiceNames()
	sort.Strings(names)
	fmt.Println(strings.Join(names, " "))
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "compose-validate: %v\n", err)
	os.Exit(1)
}
