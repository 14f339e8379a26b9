package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/load/model"
	"github.com/stampede-load/stampede/load/target"
	"github.com/stampede-load/stampede/load/transport"
	"github.com/stampede-load/stampede/profiles"
)

// credsOptions holds stampede creds's flags and injected dependencies.
type credsOptions struct {
	streams

	profile     string
	target      string
	sets        []string
	count       int
	out         string
	concurrency int
	tls         tlsFlags

	grant string

	flags func(name string) bool
	// deviceSleep stands in for the device grant's polling waits (tests).
	deviceSleep func(ctx context.Context, d time.Duration) error
	// getenv reads the environment (secrets); os.LookupEnv by default.
	getenv func(string) (string, bool)
	// retryBase is the first retry's wait; default 500 ms.
	retryBase time.Duration
}

func newCredsCmd(s streams) *cobra.Command {
	o := &credsOptions{streams: s, getenv: os.LookupEnv, retryBase: 500 * time.Millisecond}
	cmd := &cobra.Command{
		Use:   "creds",
		Short: "Mint a credentials file: refresh tokens of an oauth2 target's users (password, authorization-code or device grant)",
		Long: "Sign the users of the profile's oauth2 target in, --concurrency at a time, and write\n" +
			"their refresh tokens as JSON lines {\"refresh_token\": \"...\", \"subject\": \"...\"},\n" +
			"line i for client i, for target.credentials_file. --grant says how:\n" +
			"  password  the password grant, as target.users\n" +
			"  code      the authorization-code grant with PKCE, through the provider's HTML login form\n" +
			"            filled in as target.users (target.authorization_endpoint, target.redirect_uri;\n" +
			"            nothing needs to listen at the redirect URI)\n" +
			"  device    the device authorization grant (target.device_authorization_endpoint): each\n" +
			"            code's verification URL is printed once, for someone to approve\n" +
			"The file holds secrets: it is written with mode 0600, and nothing else prints a token.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.flags = cmd.Flags().Changed
			return o.run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.profile, "profile", "p", "", "profile YAML file with an oauth2 target and its users (required)")
	f.StringVar(&o.target, "target", "", "base URL of the provider, overriding target.url")
	f.StringArrayVar(&o.sets, "set", nil, "override a profile field by its YAML path, such as target.users.offset=100 (repeatable)")
	f.IntVar(&o.count, "count", 0, "how many users to sign in: clients 0 to count-1 (default: the profile's clients)")
	f.StringVarP(&o.out, "output", "o", "", "credentials file to write (default: standard output)")
	f.IntVar(&o.concurrency, "concurrency", 8, "sign-ins in flight at once")
	f.StringVar(&o.grant, "grant", grantPassword, "how users sign in: password, code (authorization code with PKCE through the login form) or device (device authorization)")
	o.tls.register(f)
	return cmd
}

// resolve reads the profile with the flags applied; every problem at once.
func (o *credsOptions) resolve() (profiles.Profile, error) {
	var errs []error
	given := func(name string) bool { return o.flags != nil && o.flags(name) }
	if o.profile == "" {
		errs = append(errs, errors.New("--profile: required: a profile whose target is kind oauth2, with users"))
	}
	if given("count") && o.count < 1 {
		errs = append(errs, fmt.Errorf("--count: must be at least 1, got %d", o.count))
	}
	switch o.grant {
	case grantPassword, grantCode, grantDevice:
	default:
		errs = append(errs, fmt.Errorf("--grant: want %s, %s or %s, got %q", grantPassword, grantCode, grantDevice, o.grant))
	}
	if o.concurrency < 1 {
		errs = append(errs, fmt.Errorf("--concurrency: must be at least 1, got %d", o.concurrency))
	}
	if o.target != "" {
		if err := checkTargetURL(o.target); err != nil {
			errs = append(errs, fmt.Errorf("--target: %w", err))
		}
	}
	sets, setErrs := parseSets(o.sets)
	errs = append(errs, setErrs...)
	if len(errs) > 0 {
		return profiles.Profile{}, usageError(errors.Join(errs...))
	}
	var applyErrs []error
	p, err := profiles.ResolveWith(o.profile, func(p *profiles.Profile) {
		applyErrs = applySets(p, sets)
		if o.target != "" {
			p.Target.URL = o.target
		}
	})
	errs = withSets(sets, unjoin(err), applyErrs)
	if len(errs) == 0 {
		switch {
		case p.TargetKind() != profiles.TargetOAuth2:
			errs = append(errs, fmt.Errorf("--profile %s: target.kind is %s: stampede creds needs an oauth2 target", o.profile, p.TargetKind()))
		case p.Target.Users == profiles.Users{} && o.grant != grantDevice:
			errs = append(errs, fmt.Errorf("--profile %s: target.users: stampede creds --grant %s signs users in with their passwords: give a pattern or a file, with a password", o.profile, o.grant))
		}
		errs = append(errs, grantNeeds(o.profile, o.grant, p.Target)...)
	}
	if len(errs) > 0 {
		return p, usageError(errors.Join(errs...))
	}
	if !given("count") {
		o.count = p.Clients
	}
	return p, nil
}

func (o *credsOptions) run(ctx context.Context) error {
	p, err := o.resolve()
	if err != nil {
		return err
	}
	hc := transport.NewClient()
	defer hc.CloseIdleConnections()
	if err := o.tls.apply(hc, o.err); err != nil {
		return err
	}
	p.Target.CredentialsFile = "" // minting signs users in afresh
	if o.grant == grantDevice && p.Target.Users == (profiles.Users{}) {
		p.Target.Users.Pattern = "device" // NewOAuth2 wants first credentials; the device grant needs none
	}
	cfg, err := target.OAuth2FromProfile(p, hc, o.getenv, o.err)
	if err != nil {
		return err
	}
	oa, err := target.NewOAuth2(cfg)
	if err != nil {
		return usageError(err)
	}
	grant, timeout := o.grantFunc(oa, p)
	var w io.Writer = o.streams.out
	var f *os.File
	if o.out != "" {
		if f, err = os.OpenFile(o.out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
			return usageErrorf("-o %s: %w", o.out, err)
		}
		defer f.Close()
		w = f
	}
	start := time.Now()
	results := target.Mint(ctx, oa, target.MintOptions{Count: o.count, Concurrency: o.concurrency,
		Timeout: timeout, RetryBase: o.retryBase, Grant: grant})
	bw := bufio.NewWriter(w)
	failures := map[string]int{}
	ok := 0
	for _, r := range results {
		if r.Outcome.Class != model.ClassOK {
			failures[describeOutcome(r.Outcome)]++
			continue
		}
		if err := target.WriteCredential(bw, r.Credential); err != nil {
			return fmt.Errorf("write credentials: %w", err)
		}
		ok++
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write credentials: %w", err)
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return fmt.Errorf("write credentials: %w", err)
		}
	}
	dest := "standard output"
	if o.out != "" {
		dest = o.out
	}
	fmt.Fprintf(o.err, "stampede creds: %d of %d users signed in at %s in %s; %d refresh tokens written to %s\n",
		ok, len(results), target.RedactURL(cfg.TokenURL), time.Since(start).Round(time.Millisecond), ok, dest)
	if len(failures) == 0 {
		if ctx.Err() != nil {
			return errInterrupted
		}
		return nil
	}
	var kinds []string
	for k, n := range failures {
		kinds = append(kinds, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(kinds)
	return fmt.Errorf("%d of %d users could not sign in (%s); the file holds the others, in client order",
		len(results)-ok, len(results), strings.Join(kinds, ", "))
}

// describeOutcome names a failure for a summary: "invalid_grant (HTTP 400)", "network".
func describeOutcome(o model.Outcome) string {
	s := o.Class.String()
	if o.Code != "" {
		s = o.Code
	}
	if o.Status != 0 && o.Status != http.StatusOK {
		s += fmt.Sprintf(" (HTTP %d)", o.Status)
	}
	return s
}
