package basiq_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/banklink-go/basiq"
)

func TestHardFilterValuesStayInTheQuery(t *testing.T) {
	hardBubble(t, func(t *testing.T) {
		e := hardSetup(t, nil, nil)
		ctx := t.Context()
		for _, bad := range []string{"a'b", `a\b`} {
			_, err := e.c.Jobs.List(ctx, e.userID, &basiq.JobFilter{ConnectionID: bad})
			if !errors.Is(err, basiq.ErrInvalidInput) {
				t.Errorf("filter %q: error %v, want ErrInvalidInput", bad, err)
			}
			_, err = e.c.Connections.List(ctx, e.userID, &basiq.ConnectionFilter{InstitutionID: bad})
			if !errors.Is(err, basiq.ErrInvalidInput) {
				t.Errorf("filter %q: error %v, want ErrInvalidInput", bad, err)
			}
		}
		if n := len(e.rec.records(true)); n != 0 {
			t.Fatalf("%d requests sent for rejected filters", n)
		}
		sneaky := "x&filter=user.id.eq(other)#/../?a=b"
		if _, err := e.c.Jobs.List(ctx, e.userID, &basiq.JobFilter{ConnectionID: sneaky}); err != nil {
			t.Fatalf("Jobs.List: %v", err)
		}
		log := hardLog(e.srv, http.MethodGet, "/users/{userId}/jobs")
		if len(log) != 1 {
			t.Fatalf("%d list requests, want 1", len(log))
		}
		if got, want := log[0].Query["filter"], []string{"connection.id.eq('" + sneaky + "')"}; len(got) != 1 || got[0] != want[0] {
			t.Errorf("filter query %q, want exactly %q", got, want)
		}
		if log[0].Path != "/users/"+e.userID+"/jobs" {
			t.Errorf("path %q changed by a filter value", log[0].Path)
		}
	})
}
