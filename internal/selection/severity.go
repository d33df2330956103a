package selection

import (
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/pdata/plog"
)

// Names accepted by filter.min_severity, mapped to the lowest severity number
// of each OpenTelemetry severity range.
var minSeverityNames = map[string]plog.SeverityNumber{
	"trace": plog.SeverityNumberTrace,
	"debug": plog.SeverityNumberDebug,
	"info":  plog.SeverityNumberInfo,
	"warn":  plog.SeverityNumberWarn,
	"error": plog.SeverityNumberError,
	"fatal": plog.SeverityNumberFatal,
}

// ParseMinSeverity turns a filter.min_severity value into a severity number.
func ParseMinSeverity(name string) (plog.SeverityNumber, error) {
	if n, ok := minSeverityNames[strings.ToLower(name)]; ok {
		return n, nil
	}
	return 0, fmt.Errorf("unknown severity %q (use trace, debug, info, warn, error or fatal)", name)
}

// severityTexts maps the severity_text spellings seen in the wild (Python,
// syslog, Log4j, Go, Node) to a severity number, for records that carry only
// a text. Keys are upper case.
var severityTexts = map[string]plog.SeverityNumber{
	"TRACE": plog.SeverityNumberTrace, "FINEST": plog.SeverityNumberTrace, "FINER": plog.SeverityNumberTrace,
	"DEBUG": plog.SeverityNumberDebug, "FINE": plog.SeverityNumberDebug, "DBG": plog.SeverityNumberDebug,
	"INFO": plog.SeverityNumberInfo, "INFORMATION": plog.SeverityNumberInfo, "INFORMATIONAL": plog.SeverityNumberInfo,
	"NOTICE": plog.SeverityNumberInfo2, "CONFIG": plog.SeverityNumberInfo,
	"WARN": plog.SeverityNumberWarn, "WARNING": plog.SeverityNumberWarn,
	"ERROR": plog.SeverityNumberError, "ERR": plog.SeverityNumberError, "SEVERE": plog.SeverityNumberError,
	"CRITICAL": plog.SeverityNumberFatal, "CRIT": plog.SeverityNumberFatal, "FATAL": plog.SeverityNumberFatal,
	"ALERT": plog.SeverityNumberFatal2, "EMERG": plog.SeverityNumberFatal3, "EMERGENCY": plog.SeverityNumberFatal3,
	"PANIC": plog.SeverityNumberFatal4,
}

// Severity is the record's severity number, or, where that is unset, the
// number its severity_text stands for. Unknown texts count as unspecified.
func Severity(lr plog.LogRecord) plog.SeverityNumber {
	if n := lr.SeverityNumber(); n != plog.SeverityNumberUnspecified {
		return n
	}
	return SeverityFromText(lr.SeverityText())
}

// SeverityFromText maps a severity text case-insensitively.
func SeverityFromText(text string) plog.SeverityNumber {
	if text == "" || len(text) > len("INFORMATIONAL") {
		return plog.SeverityNumberUnspecified
	}
	// Most texts arrive in upper case already; only allocate for the others.
	if n, ok := severityTexts[text]; ok {
		return n
	}
	return severityTexts[strings.ToUpper(text)]
}
