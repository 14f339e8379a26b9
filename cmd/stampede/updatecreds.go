package main

import (
	"path/filepath"
	"strings"

	"github.com/stampede-load/stampede/profiles"
)

// checkUpdateCredentials refuses target.update_credentials where the
// newest refresh tokens would land somewhere they must not: inside the
// results directory out (results get uploaded as CI artifacts), or from
// one shard of several (each holds only its own clients' tokens).
func checkUpdateCredentials(p profiles.Profile, out string, shards int) error {
	if !p.Target.UpdateCredentials {
		return nil
	}
	if shards > 1 {
		return usageErrorf("--update-credentials: a shard holds only its own clients' refresh tokens: run the shards on credentials files of their own, without it")
	}
	file, err1 := filepath.Abs(p.Target.CredentialsFile)
	dir, err2 := filepath.Abs(out)
	if err1 != nil || err2 != nil {
		return nil
	}
	if rel, err := filepath.Rel(dir, file); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return usageErrorf("--update-credentials: target.credentials_file %s lies inside the results directory %s, whose files get shared: keep the refresh tokens elsewhere", p.Target.CredentialsFile, out)
	}
	return nil
}
