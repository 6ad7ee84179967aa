package smtp_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/netlog-go/netlog/smtp"
)

// Email errors, each with the 100 records that led up to it, at most 10
// emails a minute, over verified implicit TLS (port 465). Records below
// Error are only kept as context, so this example sends nothing.
func ExampleNewHandler() {
	h, err := smtp.NewHandler("smtp.example.com:465", &smtp.Options{
		From:     "alerts@example.com",
		To:       []string{"oncall@example.com"},
		Username: "alerts",
		Password: "from-your-secret-store",
	})
	if err != nil {
		panic(err)
	}
	log := slog.New(h)
	log.Info("charging card", "order", 1042)
	log.Warn("card issuer slow", "order", 1042)
	// log.Error("card declined", "order", 1042) would send one email: that
	// record, then the two before it.

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	fmt.Println(h.Close(ctx), h.Stats().Handled)
	// Output:
	// <nil> 2
}
