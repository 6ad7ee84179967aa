package peer

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ReadCorpus reads a corpus file: one message a line, '#' comments and
// empty lines skipped, escapes \\ \n \r \t \0 \xHH.
func ReadCorpus(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for n, line := range strings.Split(string(b), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		m, err := unescape(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n+1, err)
		}
		out = append(out, m)
	}
	return out, nil
}

func unescape(s string) ([]byte, error) {
	var out []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			out = append(out, s[i])
			continue
		}
		if i++; i == len(s) {
			return nil, fmt.Errorf("a lone backslash at the end")
		}
		switch s[i] {
		case '\\':
			out = append(out, '\\')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case '0':
			out = append(out, 0)
		case 'x':
			if i+2 >= len(s) {
				return nil, fmt.Errorf("\\x needs two hex digits")
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return nil, fmt.Errorf("\\x%s: %w", s[i+1:i+3], err)
			}
			out = append(out, byte(v))
			i += 2
		default:
			return nil, fmt.Errorf("unknown escape \\%c", s[i])
		}
	}
	return out, nil
}

// ReadDatagrams reads a .dgrams capture: each datagram as
// "<decimal length> <bytes>\n".
func ReadDatagrams(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for len(b) > 0 {
		sp := bytes.IndexByte(b, ' ')
		n, err := strconv.Atoi(string(b[:max(sp, 0)]))
		if sp < 0 || err != nil || n < 0 || sp+1+n >= len(b) || b[sp+1+n] != '\n' {
			return nil, fmt.Errorf("%s: datagram %d is not \"<length> <bytes>\\n\"", path, len(out)+1)
		}
		out = append(out, b[sp+1:sp+1+n])
		b = b[sp+2+n:]
	}
	return out, nil
}
