module github.com/netlog-go/netlog

go 1.25.0
