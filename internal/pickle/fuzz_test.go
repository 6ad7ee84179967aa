package pickle_test

import (
	"testing"

	"github.com/netlog-go/netlog/internal/pickle"
)

// FuzzDecode: no input makes the decoder panic, run code or allocate
// without bound, and what it accepts survives re-encoding. The seed corpus
// (testdata/fuzz/FuzzDecode, made by scripts/fuzz-seeds.py) holds the
// pickles Python makes of a LogRecord at protocols 0 to 5 and the
// payloads that run os.system in Python.
func FuzzDecode(f *testing.F) {
	for _, p := range []string{"cos\nsystem\n.", "\x80\x04\x8c\x02os\x8c\x06system\x93.", "N)R.", "}}b.", "(N)o.", "\x97."} {
		f.Add([]byte(p))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		e, err := pickle.Decode(p)
		if err != nil {
			if e != nil {
				t.Fatalf("an error (%v) and a record", err)
			}
			return
		}
		if _, err := pickle.Decode(pickle.Format.AppendEntry(nil, e)); err != nil {
			t.Fatalf("a decoded record does not survive re-encoding: %v", err)
		}
	})
}
