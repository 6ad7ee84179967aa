module github.com/netlog-go/netlog/bench

go 1.25.0

replace github.com/netlog-go/netlog => ../

require (
	github.com/RackSec/srslog v0.0.0-20180709174129-a4725f04ec91
	github.com/netlog-go/netlog v0.0.0
	github.com/samber/slog-syslog/v2 v2.5.2
	golang.org/x/image v0.30.0
	golang.org/x/net v0.56.0
)

require (
	github.com/samber/lo v1.47.0 // indirect
	github.com/samber/slog-common v0.18.1 // indirect
	github.com/wneessen/go-mail v0.8.1 // indirect
	golang.org/x/crypto v0.54.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.40.0 // indirect
)
