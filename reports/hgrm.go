package reports

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
)

// hgrmHeader is the column header HdrHistogram's Java outputPercentileDistribution
// prints, which its plotter and HistogramLogProcessor users expect.
const hgrmHeader = "       Value     Percentile TotalCount 1/(1-Percentile)\n\n"

// hgrmLibHeader is the header hdrhistogram-go's PercentilesPrint writes;
// WriteHgrm replaces it with hgrmHeader.
const hgrmLibHeader = " Value\tPercentile\tTotalCount\t1/(1-Percentile)\n\n"

// hgrmTicksPerHalfDistance is the percentile resolution of the rows, the
// value HdrHistogram's own tools use by default.
const hgrmTicksPerHalfDistance = 5

// HistogramOps lists, in report order, the operations of r that carry a
// latency histogram with data: those WriteHgrm can print.
func HistogramOps(r *Result) []string {
	var ops []string
	for _, name := range OpNames {
		if o := r.Ops[name]; o != nil && o.HDR != "" && o.Count > 0 {
			ops = append(ops, name)
		}
	}
	return ops
}

// WriteHgrm writes the latency histograms of r in HdrHistogram's percentile
// distribution format (.hgrm), values in milliseconds, one section per
// operation: a "#" comment line naming the operation, then the header, the
// rows and the #[Mean ...] footer, exactly as HdrHistogram prints them, so
// its plotter reads each section. With ops, only those operations are
// written, in the order given; an operation without a histogram is an
// error. Without ops, every operation of HistogramOps is.
func WriteHgrm(w io.Writer, r *Result, ops ...string) error {
	if len(ops) == 0 {
		ops = HistogramOps(r)
		if len(ops) == 0 {
			_, err := fmt.Fprintf(w, "# stampede run %s: no latency histograms in this result\n", r.RunID)
			return err
		}
	}
	have := HistogramOps(r)
	var b bytes.Buffer
	for i, name := range ops {
		if !slices.Contains(have, name) {
			return fmt.Errorf("%w: no latency histogram for operation %q; operations with one: %s",
				ErrInvalidResult, name, strings.Join(have, ", "))
		}
		h, err := DecodeHistogram(r.Ops[name].HDR)
		if err != nil {
			return fmt.Errorf("%w: ops.%s.hdr: %w", ErrInvalidResult, name, err)
		}
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "# stampede run %s, operation %s: latency from intended start, milliseconds\n", r.RunID, name)
		var sec bytes.Buffer
		if _, err := h.PercentilesPrint(&sec, hgrmTicksPerHalfDistance, 1000); err != nil {
			return fmt.Errorf("print %s histogram: %w", name, err)
		}
		out, found := bytes.CutPrefix(sec.Bytes(), []byte(hgrmLibHeader))
		if found {
			b.WriteString(hgrmHeader)
		}
		b.Write(out)
	}
	_, err := w.Write(b.Bytes())
	return err
}
