// Command pizzapi-gen generates the Go package protocol/ and the TypeScript package ts/protocol
// from the JSON Schema contract in schema/. Run it through `go tool -modfile=tools/go.mod task generate`.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/pizzapi/pizzapi/gen"
)

func main() {
	var opts gen.Options
	flag.StringVar(&opts.SchemaDir, "schema", "schema", "directory of the JSON Schema files")
	flag.StringVar(&opts.GoDir, "go", "protocol", "output directory of the Go package")
	flag.StringVar(&opts.TSDir, "ts", "ts/protocol/src", "output directory of the TypeScript sources")
	flag.StringVar(&opts.Go.ImportPath, "go-import", "github.com/pizzapi/pizzapi/protocol", "import path of the Go package")
	flag.StringVar(&opts.Go.WireImportPath, "wire-import", "github.com/pizzapi/pizzapi/internal/wire", "import path of the runtime package")
	flag.Parse()
	if err := gen.Generate(opts); err != nil {
		fmt.Fprintln(os.Stderr, "pizzapi-gen:", err)
		os.Exit(1)
	}
}
