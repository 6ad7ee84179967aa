package peer

import (
	"fmt"
	"strings"
	"testing"
)

// TestOracleReads checks that the oracle reports rsyslog's fields for
// direct UDP and TCP input, multi-line text kept whole.
func TestOracleReads(t *testing.T) {
	o := StartOracle(t)
	msgs := [][]byte{
		[]byte("<134>Dec  1 09:21:16 vmhost myapp[7]: m1 first line\nsecond line"),
		[]byte("<14>1 2026-12-01T02:43:05Z web01 app 42 ID7 [ex@32473 a=\"1\"] m2"),
		[]byte("<13>Dec  1 09:21:16 vmhost cron m3 no colon"),
	}
	for _, network := range []string{"udp", "tcp"} {
		feed := msgs
		if network == "tcp" { // octet counting keeps the line break inside m1
			feed = nil
			for _, m := range msgs {
				feed = append(feed, []byte(fmt.Sprintf("%d %s", len(m), m)))
			}
		}
		got := o.Read(t, network, feed...)
		if len(got) != 3 {
			t.Fatalf("%s: %d readings, want 3: %+v", network, len(got), got)
		}
		// rsyslog writes "-" for an empty field and keeps, in a legacy
		// message's text, the space after the tag.
		want := []Reading{
			{Pri: "134", Hostname: "vmhost", AppName: "myapp", ProcID: "7", MsgID: "-", Msg: " m1 first line\nsecond line"},
			{Pri: "14", Hostname: "web01", AppName: "app", ProcID: "42", MsgID: "ID7", SD: `[ex@32473 a="1"]`, Msg: "m2"},
			{Pri: "13", Hostname: "vmhost", AppName: "cron", ProcID: "-", MsgID: "-", Msg: " m3 no colon"},
		}
		for i, w := range want {
			g := got[i]
			if g.Pri != w.Pri || g.Hostname != w.Hostname || g.AppName != w.AppName || g.ProcID != w.ProcID ||
				g.MsgID != w.MsgID || g.Msg != w.Msg || (w.SD != "" && g.SD != w.SD) {
				t.Errorf("%s message %d: got %+v, want %+v", network, i+1, g, w)
			}
		}
	}
}

// TestRelays sends three messages through each relay configuration into
// the oracle and checks that each arrives, its text whole.
func TestRelays(t *testing.T) {
	o := StartOracle(t)
	for _, kind := range RelayKinds {
		t.Run(string(kind), func(t *testing.T) {
			dest := o.TCP
			switch kind.Network() {
			case "udp":
				dest = o.UDP
			case "relp":
				dest = o.RELP
			}
			r := StartRelay(t, kind, dest)
			for _, in := range []string{"udp", "tcp"} {
				var msgs [][]byte
				for i := 1; i <= 3; i++ {
					m := fmt.Sprintf("<134>Dec  1 09:21:16 vmhost myapp[7]: relay %s via %s message %d", kind, in, i)
					if in == "tcp" {
						m += "\n"
					}
					msgs = append(msgs, []byte(m))
				}
				got := o.Through(t, in, r.Addr(in), msgs...)
				if len(got) != 3 {
					t.Fatalf("through %s: %d readings, want 3: %+v", in, len(got), got)
				}
				for i, g := range got {
					want := fmt.Sprintf("via %s message %d", in, i+1)
					if !strings.HasSuffix(g.Msg, want) || g.Hostname != "vmhost" {
						t.Errorf("through %s, message %d: got %+v, want hostname vmhost, text ending %q", in, i+1, g, want)
					}
				}
			}
		})
	}
}
