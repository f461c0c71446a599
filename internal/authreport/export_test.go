package authreport

// For the external tests (package authreport_test), which need testutil and
// so cannot live inside the package (testutil imports app, which imports us).
var (
	MailWith    = mailWith
	Gzip        = gz
	GoogleStyle = googleStyle
	TLSSample   = tlsReport
)
