package reports

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Bounds on one encoded histogram. A histogram with stampede's bounds has
// 23,552 counts, at most 9 bytes each once encoded, so it inflates to less
// than 256 KiB; the bounds keep a hostile file from inflating a huge one
// (zlib expands up to 1,000-fold).
const (
	maxHDRChars    = 1 << 20
	maxHDRInflated = 256 << 10
)

// DecodeResult decodes a result.json (or a checkpoint.json, which is a
// result marked partial) and validates it up front: the schema must be
// stampede.result/v1, every operation must be an object and every histogram
// must decode with stampede's bounds (1 µs .. 1 h, 3 significant figures).
// Every problem is reported at once, one per line, each naming its field.
// It never panics, whatever data holds.
func DecodeResult(data []byte) (*Result, error) {
	var r Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("not a stampede result: %w", err)
	}
	if r.Schema != Schema {
		return nil, fmt.Errorf("schema %q, want %q", r.Schema, Schema)
	}
	var errs []error
	names := make([]string, 0, len(r.Ops))
	for name := range r.Ops {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		o := r.Ops[name]
		if o == nil {
			errs = append(errs, fmt.Errorf("ops.%s: want an object, got null", name))
			continue
		}
		if o.Count < 0 || o.OK < 0 || o.OutOfRange < 0 {
			errs = append(errs, fmt.Errorf("ops.%s: negative count (count %d, ok %d, out_of_range %d)", name, o.Count, o.OK, o.OutOfRange))
		}
		for _, h := range []struct{ field, enc string }{{"hdr", o.HDR}, {"service_hdr", o.ServiceHDR}} {
			if err := checkHistogram(h.enc); err != nil {
				errs = append(errs, fmt.Errorf("ops.%s.%s: %w", name, h.field, err))
			}
		}
	}
	if len(errs) == 0 {
		errs = checkFigures(&r)
	}
	// A result written before passwords were masked in stored URLs is
	// masked as it is read: no renderer repeats one.
	r.Profile = r.Profile.Redacted()
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w:\n%w", ErrInvalidResult, errors.Join(errs...))
	}
	return &r, nil
}

// checkHistogram reports whether enc, if set, is a histogram stampede could
// have written. It reads the histogram's header itself before the histogram
// library sees it: the library inflates without a bound and loops forever
// on some hostile bounds (a lowest trackable value of 2^52 or more).
func checkHistogram(enc string) error {
	if enc == "" {
		return nil
	}
	if len(enc) > maxHDRChars {
		return fmt.Errorf("histogram of %d characters, more than %d", len(enc), maxHDRChars)
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return fmt.Errorf("decode histogram: %w", err)
	}
	if len(raw) < 8 {
		return fmt.Errorf("decode histogram: %d bytes, too short", len(raw))
	}
	z, err := zlib.NewReader(bytes.NewReader(raw[8:]))
	if err != nil {
		return fmt.Errorf("decode histogram: %w", err)
	}
	inflated, err := io.ReadAll(io.LimitReader(z, maxHDRInflated+1))
	z.Close()
	switch {
	case err != nil:
		return fmt.Errorf("decode histogram: %w", err)
	case len(inflated) > maxHDRInflated:
		return fmt.Errorf("decode histogram: inflates to more than %d bytes", maxHDRInflated)
	case len(inflated) < 40:
		return fmt.Errorf("decode histogram: header of %d bytes, want 40", len(inflated))
	}
	sigFigs := int64(int32(binary.BigEndian.Uint32(inflated[12:])))
	lowest := int64(binary.BigEndian.Uint64(inflated[16:]))
	highest := int64(binary.BigEndian.Uint64(inflated[24:]))
	if lowest != histMin || highest != histMax || sigFigs != histSigFigs {
		return fmt.Errorf("histogram tracks %d..%d µs with %d significant figures, want %d..%d with %d",
			lowest, highest, sigFigs, histMin, histMax, histSigFigs)
	}
	h, err := DecodeHistogram(enc)
	if err != nil {
		return err
	}
	if h.TotalCount() < 0 {
		return errors.New("histogram counts overflow")
	}
	return nil
}
