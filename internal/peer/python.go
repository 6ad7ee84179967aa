package peer

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// StartPython runs a Python script that prints "READY ADDRESS" and then
// one line per event; it returns the address and the lines that follow.
// The script ends with the test.
func StartPython(t testing.TB, script string, args ...string) (string, <-chan string) {
	t.Helper()
	py := Path(t, "python3")
	cmd := exec.Command(py, append([]string{script}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 16<<20) // a large message is 3 copies of 6 bytes of JSON per "ü"
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		for range lines { // until the reader has seen EOF, before Wait closes the pipe
		}
		cmd.Wait()
	})
	ready := NextLine(t, lines)
	if !strings.HasPrefix(ready, "READY ") {
		t.Fatalf("%s did not start: %q", script, ready)
	}
	return strings.TrimPrefix(ready, "READY "), lines
}

// NextLine returns the script's next line, failing the test if it exits
// or prints nothing for 10 s.
func NextLine(t testing.TB, lines <-chan string) string {
	t.Helper()
	select {
	case l, ok := <-lines:
		if !ok {
			t.Fatal("the Python script exited")
		}
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("the Python script printed nothing")
		return ""
	}
}
