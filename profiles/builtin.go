package profiles

import (
	"cmp"
	"embed"
	"fmt"
	"slices"
	"strings"
)

// builtinFS holds the built-in profiles, one YAML file each, as shipped.
//
//go:embed builtin/*.yaml
var builtinFS embed.FS

// BuiltinNames lists the built-in profiles, "default" first and the rest in
// the order the README presents them.
func BuiltinNames() []string {
	return []string{"default", "steady", "commute", "elevator", "key-rotation", "revocation-wave", "brownout", "interceptor-race", "soak", "expiry-dev", "clerk-expo", "reconnect-storm"}
}

// builtinFile is the name a built-in profile's problems are reported under.
func builtinFile(name string) string { return "builtin/" + name + ".yaml" }

// BuiltinSource returns the YAML of the built-in profile of that name as
// shipped, comments included ("" is "default").
func BuiltinSource(name string) ([]byte, error) {
	name = cmp.Or(name, "default")
	if !slices.Contains(BuiltinNames(), name) {
		return nil, fmt.Errorf("unknown profile %q (built-in profiles: %s)", name, strings.Join(BuiltinNames(), ", "))
	}
	b, err := builtinFS.ReadFile(builtinFile(name))
	if err != nil {
		return nil, fmt.Errorf("built-in profile %s: %w", name, err)
	}
	return b, nil
}

// Builtin returns the built-in profile of that name ("" is "default"),
// parsed from its embedded YAML.
func Builtin(name string) (Profile, error) {
	src, err := BuiltinSource(name)
	if err != nil {
		return Profile{}, err
	}
	return Parse(builtinFile(cmp.Or(name, "default")), src)
}
