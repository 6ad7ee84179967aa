module github.com/netlog-go/netlog

go 1.25.0

require github.com/kisielk/og-rek v1.3.0

require (
	github.com/aristanetworks/gomap v0.0.0-20230726210543-f4e41046dced // indirect
	github.com/leodido/go-syslog/v4 v4.6.0 // indirect
	golang.org/x/exp v0.0.0-20230725093048-515e97ebf090 // indirect
)
