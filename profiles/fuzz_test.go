package profiles

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse holds Parse to its contract on any input: no panic, and either
// a valid profile or an error made of located *FieldError lines.
func FuzzParse(f *testing.F) {
	for _, name := range BuiltinNames() {
		src, err := BuiltinSource(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	files, _ := filepath.Glob("testdata/*.yaml")
	files = append(files, "../examples/profile.yaml")
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			if !reflect.DeepEqual(p, Profile{}) {
				t.Fatalf("error %v with a non-zero profile", err)
			}
			fes := FieldErrors(err)
			if len(fes) == 0 || len(fes) != strings.Count(err.Error(), "\n")+1 {
				t.Fatalf("error is not one *FieldError per line: %q", err)
			}
			for _, fe := range fes {
				if fe.File != "fuzz.yaml" || fe.Message == "" {
					t.Fatalf("problem without file or message: %+v", fe)
				}
			}
			return
		}
		if verr := p.Validate(); verr != nil {
			t.Fatalf("Parse returned an invalid profile: %v", verr)
		}
	})
}
