package basiq

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// The overhead target (DESIGN.md §7): Jobs.Get against a loopback server
// within 1.2× of hand-written net/http + encoding/json for the same request.
// Compare with:
//
//	go test -run '^$' -bench 'BenchmarkJobsGet' -count 6 -benchmem .

const benchJobID = "b1ef29c9-3f8c-45c9-a823-d819605989c6"

// benchServer serves POST /token and GET /jobs/{id} (the recorded job) on loopback.
func benchServer(b *testing.B) (*httptest.Server, *atomic.Int64) {
	b.Helper()
	path := filepath.Join("testdata", "basiq-spec", "v2.1", "examples", "jobs__getJob.json")
	job, err := os.ReadFile(path)
	if err != nil {
		b.Fatalf("recorded Basiq response missing from testdata: %v", err)
	}
	var tokens atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		tokens.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"bench-token","expires_in":3600,"token_type":"Bearer"}`)
	})
	mux.HandleFunc("GET /jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer bench-token" || r.PathValue("id") != benchJobID {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(job)
	})
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	return srv, &tokens
}

func BenchmarkJobsGet(b *testing.B) {
	srv, tokens := benchServer(b)
	c, err := NewClient(coreAPIKey, WithBaseURL(srv.URL), WithHTTPClient(srv.Client()))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Token(ctx); err != nil { // token cached before timing
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		job, err := c.Jobs.Get(ctx, benchJobID)
		if err != nil {
			b.Fatal(err)
		}
		if len(job.Steps) != 3 {
			b.Fatalf("decoded %d steps", len(job.Steps))
		}
	}
	b.StopTimer()
	if n := tokens.Load(); n != 1 {
		b.Fatalf("%d token requests", n)
	}
}

// rawJob is the plain struct a hand-written client would decode into.
type rawJob struct {
	Type    string    `json:"type"`
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	Steps   []struct {
		Title  string `json:"title"`
		Status string `json:"status"`
		Result *struct {
			Type   string `json:"type"`
			URL    string `json:"url"`
			Code   string `json:"code"`
			Title  string `json:"title"`
			Detail string `json:"detail"`
		} `json:"result"`
	} `json:"steps"`
	Links struct {
		Self   string `json:"self"`
		Source string `json:"source"`
	} `json:"links"`
}

func BenchmarkJobsGetRaw(b *testing.B) {
	srv, _ := benchServer(b)
	hc := srv.Client()
	ctx := context.Background()
	url := srv.URL + "/jobs/" + benchJobID
	b.ReportAllocs()
	for b.Loop() {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer bench-token")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "raw/1.0")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var job rawJob
		err = json.NewDecoder(resp.Body).Decode(&job)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d, %v", resp.StatusCode, err)
		}
		if len(job.Steps) != 3 {
			b.Fatalf("decoded %d steps", len(job.Steps))
		}
	}
}
