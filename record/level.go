package record

import (
	"log/slog"
	"strconv"
)

// LevelNo maps a slog level to Python's level number: 20 + 10*level/4, so
// Debug (-4) → 10, Info (0) → 20, Warn (4) → 30, Error (8) → 40 and 12 → 50.
func LevelNo(l slog.Level) int { return 20 + 10*int(l)/4 }

// LevelFromNo maps a Python level number back to a slog level.
func LevelFromNo(n int) slog.Level { return slog.Level((n - 20) * 4 / 10) }

// LevelName is Python's logging.getLevelName for a level number: the five
// named levels and NOTSET, else "Level N".
func LevelName(n int) string {
	switch n {
	case 0:
		return "NOTSET"
	case 10:
		return "DEBUG"
	case 20:
		return "INFO"
	case 30:
		return "WARNING"
	case 40:
		return "ERROR"
	case 50:
		return "CRITICAL"
	}
	return "Level " + strconv.Itoa(n)
}
