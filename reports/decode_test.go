package reports

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// hostileHDR encodes an empty V2 compressed histogram header with the
// given bounds, as HdrHistogram would, whatever they are.
func hostileHDR(lowest, highest int64, sigFigs int32) string {
	var inner bytes.Buffer
	for _, v := range []any{int32(0x1c849303), int32(0), int32(0), sigFigs, lowest, highest, float64(1)} {
		_ = binary.Write(&inner, binary.BigEndian, v)
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, _ = zw.Write(inner.Bytes())
	_ = zw.Close()
	var outer bytes.Buffer
	_ = binary.Write(&outer, binary.BigEndian, int32(0x1c849304))
	_ = binary.Write(&outer, binary.BigEndian, int32(z.Len()))
	outer.Write(z.Bytes())
	return base64.StdEncoding.EncodeToString(outer.Bytes())
}

// bomb is a histogram whose payload inflates to n zero bytes.
func bomb(n int) string {
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	_, _ = zw.Write(make([]byte, n))
	_ = zw.Close()
	var outer bytes.Buffer
	_ = binary.Write(&outer, binary.BigEndian, int32(0x1c849304))
	_ = binary.Write(&outer, binary.BigEndian, int32(z.Len()))
	outer.Write(z.Bytes())
	return base64.StdEncoding.EncodeToString(outer.Bytes())
}

func TestDecodeResultReadsWhatWriteFileWrites(t *testing.T) {
	r := sampleResult(t)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeResult(b)
	if err != nil {
		t.Fatal(err)
	}
	if back.RunID != r.RunID || back.Ops[OpRefresh].HDR != r.Ops[OpRefresh].HDR {
		t.Errorf("decoded %+v", back)
	}
}

// TestDecodeResultRejectsHostileHistograms: bounds that make the histogram
// library loop forever, a zlib bomb, a null operation and garbage are each
// refused promptly, all in one error naming every field.
func TestDecodeResultRejectsHostileHistograms(t *testing.T) {
	good, _ := EncodeHistogram(NewHistogram())
	doc := map[string]any{
		"schema": Schema,
		"ops": map[string]any{
			"api":       map[string]any{"hdr": hostileHDR(1<<60, 1<<62, 3)},
			"refresh":   map[string]any{"hdr": good, "service_hdr": bomb(64 << 20)},
			"sign_in":   nil,
			"get_token": map[string]any{"hdr": "bm90IGEgaGlzdG9ncmFt", "count": -1},
		},
	}
	b, _ := json.Marshal(doc)
	done := make(chan error, 1)
	go func() {
		_, err := DecodeResult(b)
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("DecodeResult hangs on hostile histograms")
	}
	if !errors.Is(err, ErrInvalidResult) {
		t.Fatalf("error %v does not wrap ErrInvalidResult", err)
	}
	for _, want := range []string{"ops.api.hdr: histogram tracks 1152921504606846976..", "ops.refresh.service_hdr: decode histogram: inflates",
		"ops.sign_in: want an object, got null", "ops.get_token: negative count", "ops.get_token.hdr: decode histogram"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "ops.refresh.hdr") {
		t.Errorf("the good histogram is refused:\n%v", err)
	}
}
