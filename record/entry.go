// Package record defines Entry, the one log record model of netlog, used by
// the handlers that send records and by the receiver that decodes them, and
// the streaming Encoder contract that every wire format implements.
//
// An Entry carries the fields of Python's logging.LogRecord, so a record
// survives the trip Go → Python → Go (and the reverse) field by field, plus
// the slog attributes, with groups nested.
package record

import (
	"log/slog"
	"time"
)

// Entry is one log record. Its standard fields are those of Python's
// logging.LogRecord; the zero value of a field means "not known".
type Entry struct {
	Name        string        // logger name (record.name)
	Msg         string        // message, already merged with its arguments
	LevelNo     int           // Python level number: 10 DEBUG … 50 CRITICAL
	LevelName   string        // Python level name: "INFO", "Level 25"
	Created     time.Time     // when the record was made; zero if unknown
	Relative    time.Duration // since the sender's logging began (relativeCreated, in ms on the wire)
	Pathname    string        // source file path
	Filename    string        // base name of Pathname
	Module      string        // Filename without its extension
	Lineno      int           // source line
	FuncName    string        // function name
	Thread      int64         // thread id; 0 if unknown (Go senders)
	ThreadName  string        // thread name
	Process     int           // process id
	ProcessName string        // process name
	TaskName    string        // asyncio task name (Python 3.12+)
	ExcText     string        // formatted exception
	StackInfo   string        // formatted stack
	Attrs       []slog.Attr   // everything else: slog attributes, Python's extra
	Syslog      *Syslog       // set for a record received as a syslog message
	// Peer is the address of the sender a receiver got the record from
	// ("192.0.2.7:50122", or "unix peer" on a Unix socket; rsyslog's
	// fromhost-ip), and Listener the address it came in on; empty for a
	// record not received.
	Peer, Listener string
}

// Syslog is what a syslog message carries besides its time and text.
type Syslog struct {
	// Format is how the message was read: "rfc5424"; "rfc3164" (legacy);
	// "rfc3164-nopri", legacy without a <PRI>, whose priority 13
	// (user.notice) is assumed as RFC 3164 §4.3.3 says; "bare", <PRI>
	// and text as Python's SysLogHandler sends it; or "raw" for a
	// message that did not parse, kept whole in Msg.
	Format   string
	Facility int
	Severity int
	Hostname string
	AppName  string
	ProcID   string
	MsgID    string
	SD       []SDElement // RFC 5424 structured data, in ID order
}

// SDElement is one RFC 5424 structured data element.
type SDElement struct {
	ID     string
	Params []SDParam // in name order
}

// SDParam is one PARAM-NAME="PARAM-VALUE".
type SDParam struct{ Name, Value string }

// Level returns the slog level of e, the inverse of LevelNo's mapping.
func (e *Entry) Level() slog.Level { return LevelFromNo(e.LevelNo) }
