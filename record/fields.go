package record

// Python LogRecord attribute names, as they appear in a record's __dict__.
const (
	FieldName        = "name"
	FieldMsg         = "msg"
	FieldArgs        = "args"
	FieldLevelName   = "levelname"
	FieldLevelNo     = "levelno"
	FieldPathname    = "pathname"
	FieldFilename    = "filename"
	FieldModule      = "module"
	FieldExcInfo     = "exc_info"
	FieldExcText     = "exc_text"
	FieldStackInfo   = "stack_info"
	FieldLineno      = "lineno"
	FieldFuncName    = "funcName"
	FieldCreated     = "created"
	FieldMsecs       = "msecs"
	FieldRelative    = "relativeCreated"
	FieldThread      = "thread"
	FieldThreadName  = "threadName"
	FieldProcessName = "processName"
	FieldProcess     = "process"
	FieldTaskName    = "taskName"
)

// reserved reports whether key is a LogRecord attribute that a sender
// sets itself, or one of the two Python's Formatter adds. Python refuses such
// keys in extra ("Attempt to overwrite"); netlog renames them (see AttrKey).
// exc_text, stack_info and taskName are not reserved: a top-level attribute
// of that name is how a Go program sets those fields.
func reserved(key string) bool {
	switch key {
	case FieldName, FieldMsg, FieldArgs, FieldLevelName, FieldLevelNo,
		FieldPathname, FieldFilename, FieldModule, FieldExcInfo, FieldLineno,
		FieldFuncName, FieldCreated, FieldMsecs, FieldRelative, FieldThread,
		FieldThreadName, FieldProcessName, FieldProcess, "message", "asctime":
		return true
	}
	return false
}

// AttrKey is the key under which a top-level attribute is written: its own,
// unless it would overwrite a LogRecord field, in which case an underscore
// is appended (PEP 8's convention for a clashing name): an attribute "name"
// arrives as "name_", and the logger name stays intact.
func AttrKey(key string) string {
	if reserved(key) {
		return key + "_"
	}
	return key
}
