package record

// DecodeJSONFast is the JSON fast path alone: nil where it gives up.
func DecodeJSONFast(p []byte) *Entry { return decodeJSONFast(nil, p) }

// DecodeJSONGeneral is the general JSON reader alone.
func DecodeJSONGeneral(p []byte) (*Entry, error) { return decodeJSON(p) }
