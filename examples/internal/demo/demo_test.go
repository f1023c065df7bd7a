package demo

import (
	"testing"
	"time"
)

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "-", 10 * time.Minute: "10m", time.Hour: "1h", 2 * time.Hour: "2h",
		7 * 24 * time.Hour: "7d", 90 * time.Second: "1m30s", 2 * time.Minute: "2m", 90 * time.Minute: "1h30m",
	} {
		if got := Human(d); got != want {
			t.Errorf("Human(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestOrDash(t *testing.T) {
	if OrDash("") != "-" || OrDash("x") != "x" {
		t.Error("OrDash")
	}
}
